from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TokensConfig(AppConfig):
    name = "tokens"
    verbose_name = _("Personal API tokens")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from tokens import (
            schema,  # noqa: F401  (registers the personal-token scheme)
            services,
        )
        from tokens.models import PersonalToken

        # The tokens this process remembers (services.token_authenticate) are read
        # afresh once their owner or they themselves change here (admin included).
        def owner_changed(sender, instance, **kwargs) -> None:
            services.forget_tokens_of(owner_id=instance.pk)

        def token_changed(sender, instance, **kwargs) -> None:
            services.forget_token(token_hash=instance.token_hash)

        for signal in (post_save, post_delete):
            signal.connect(owner_changed, sender=get_user_model(), weak=False)
            signal.connect(token_changed, sender=PersonalToken, weak=False)
