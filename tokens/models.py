import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from visiona.api.scopes import scope_name


class PersonalTokenQuerySet(models.QuerySet):
    def active(self, now: datetime | None = None):
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class PersonalToken(models.Model):
    """A user's personal API token: ``Authorization: Bearer vap_…`` on /api/.

    Only the SHA-256 of the secret is stored; ``display_prefix`` (``vap_`` and six
    characters) lets people tell their tokens apart. Not a device token
    (devices.DeviceToken): that one is the agent's, on /api/agent/ only.
    """

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="personal_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    display_prefix = models.CharField(_("starts with"), max_length=16, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = PersonalTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal API token")
        verbose_name_plural = _("personal API tokens")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="token_owner_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def scope_names(self) -> list[str]:
        """Its scopes as the reader says them (visiona.api.scopes.scope_name)."""
        return [scope_name(scope) for scope in self.scopes]
