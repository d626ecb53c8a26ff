from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisionaConfig(AppConfig):
    name = "visiona"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from visiona import sessions  # noqa: F401  (connects the sign-in stamp)
        from visiona.admin_third_party import register_group_admin
        from visiona.auth import user_cache  # noqa: F401  (forgets a saved or deleted user)

        register_group_admin()  # permissions named in the reader's language
