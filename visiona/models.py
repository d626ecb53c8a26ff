from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person. Signed in through Member Center, keyed on the OIDC ``sub`` claim."""

    oidc_sub = models.CharField(
        _("Member Center subject"),
        max_length=255,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The stable user id from Member Center (the ID token's sub)."),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        # Lazy, as Django translates them; the stubs type Meta's as plain str.
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email or self.username

    @property
    def upstream_id(self) -> str:
        """The user id sent to Kneron's services: the Member Center ``sub``.
        Local password accounts (development) have none and use a stable local id."""
        return self.oidc_sub or f"local-{self.pk}"
