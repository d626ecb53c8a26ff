"""Devices, the one-time codes that pair them and the tokens their agents use.

Codes and tokens are stored as hashes, which are also their primary keys; pages
and the API name them by a separate random ``public_id``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from devices.choices import Chip, ConnectionStatus, PairingCodeStatus, RegistrationStatus


def online_since(now: datetime | None = None) -> datetime:
    """The oldest heartbeat that still counts (while the tunnel registry cannot answer)."""
    now = now or timezone.now()
    return now - timedelta(seconds=settings.DEVICE_ONLINE_THRESHOLD_SECONDS)


class DeviceQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)


class Device(models.Model):
    """A machine with a Kneron chip and the local agent, paired to one user."""

    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="devices",
    )
    serial = models.CharField(_("serial number"), max_length=64)
    name = models.CharField(_("name"), max_length=100)
    chip = models.CharField(_("chip"), max_length=8, choices=Chip.choices)
    agent_version = models.CharField(_("agent version"), max_length=64, blank=True)
    # What the agent said in its last heartbeat ("ready", "busy", ...), as reported.
    agent_status = models.CharField(_("agent status"), max_length=32, blank=True)
    registration_status = models.CharField(
        _("registration status"),
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.PAIRED,
    )
    # The latest sign of life, a heartbeat or a tunnel; written coarsely (on a change,
    # or every few minutes while connected: docs/tunnel.md, "Liveness").
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    # The latest HTTP heartbeat: what decides "online" while the registry cannot answer.
    last_heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    created_at = models.DateTimeField(_("paired"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    deleted_at = models.DateTimeField(_("unpaired"), null=True, blank=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["-created_at"]
        constraints = [
            # An unpaired (deleted) serial may pair again: unique among live rows only.
            models.UniqueConstraint(
                fields=["serial"],
                condition=Q(deleted_at__isnull=True),
                name="devices_unique_live_serial",
            ),
            models.CheckConstraint(
                condition=(
                    Q(deleted_at__isnull=True, registration_status=RegistrationStatus.PAIRED)
                    | Q(deleted_at__isnull=False, registration_status=RegistrationStatus.UNPAIRED)
                ),
                name="devices_registration_matches_deletion",
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"], name="devices_owner_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial})"

    def heartbeat_is_recent(self, now: datetime | None = None) -> bool:
        """Whether its last HTTP heartbeat still counts: what decides "online" only
        while the tunnel registry cannot answer (devices/presence.py)."""
        return bool(self.last_heartbeat_at and self.last_heartbeat_at >= online_since(now))

    def connection_status(self) -> ConnectionStatus:
        """Its presence (devices/presence.py: its tunnel when the registry answers, its
        heartbeats only when it cannot), asked of the registry for this device alone;
        lists ask ``presence.presences`` once for all their devices."""
        from devices import presence

        return ConnectionStatus(presence.presences(devices=[self])[str(self.pk)].status)


class PairingCode(models.Model):
    """A short one-time code a signed-in user hands to an agent to pair a device."""

    code_hash = models.CharField(_("code hash"), max_length=64, primary_key=True, editable=False)
    public_id = models.UUIDField(_("id"), default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="pairing_codes",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    device = models.ForeignKey(
        Device,
        verbose_name=_("device"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("pairing code")
        verbose_name_plural = _("pairing codes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "expires_at"], name="devices_code_owner_expires")]

    def __str__(self) -> str:
        return str(self.public_id)

    def status(self, now: datetime | None = None) -> PairingCodeStatus:
        if self.used_at is not None:
            return PairingCodeStatus.USED
        if self.expires_at <= (now or timezone.now()):
            return PairingCodeStatus.EXPIRED
        return PairingCodeStatus.PENDING


class DeviceTokenQuerySet(models.QuerySet):
    def usable(self, now: datetime | None = None) -> DeviceTokenQuerySet:
        """Tokens an agent may use: not revoked or expired, the device paired, and its
        owner active (a deactivated user loses their devices as a revocation would;
        the relay's periodic check of open tunnels asks this same query)."""
        return self.filter(
            revoked_at__isnull=True,
            expires_at__gt=now or timezone.now(),
            device__deleted_at__isnull=True,
            device__owner__is_active=True,
        )


class DeviceToken(models.Model):
    """The credential a paired device's agent sends as ``Authorization: Bearer``."""

    token_hash = models.CharField(_("token hash"), max_length=64, primary_key=True, editable=False)
    public_id = models.UUIDField(_("id"), default=uuid.uuid4, unique=True, editable=False)
    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="tokens"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = DeviceTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.public_id)

    def is_usable(self, now: datetime | None = None) -> bool:
        return (
            self.revoked_at is None
            and self.expires_at > (now or timezone.now())
            and self.device.deleted_at is None
            and self.device.owner.is_active
        )


class TunnelNode(models.Model):
    """A relay node process's lease: the registry without Redis.

    Renewed by its node every few seconds (devices/tunnel_registry/); the entries
    under it are valid while ``expires_at`` is in the future. A new id at every start.
    """

    node_id = models.CharField(_("relay node id"), max_length=32, primary_key=True)
    node_url = models.CharField(_("relay node"), max_length=200)
    renewed_at = models.DateTimeField(_("renewed at"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("tunnel relay node")
        verbose_name_plural = _("tunnel relay nodes")

    def __str__(self) -> str:
        return f"{self.node_url} ({self.node_id})"


class TunnelRegistration(models.Model):
    """Which relay node holds a device's live tunnel: the registry without Redis.

    Written by the relay node (devices/tunnel_registry/), read by any web
    instance. Valid while its node's lease (``TunnelNode``) has not expired.
    """

    device = models.OneToOneField(
        Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="+"
    )
    node = models.ForeignKey(
        TunnelNode, verbose_name=_("relay node"), on_delete=models.CASCADE, related_name="+"
    )
    connection_id = models.CharField(_("tunnel connection id"), max_length=32)
    connected_at = models.DateTimeField(_("tunnel connected at"))

    class Meta:
        verbose_name = _("tunnel registration")
        verbose_name_plural = _("tunnel registrations")

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.node_id}"


class RelaySlot(models.Model):
    """One relayed exchange in flight: the caps' count without Redis (devices/relay_slots.py).

    A lease: its holder renews ``expires_at`` while the exchange lives and deletes
    the row when it ends; a holder that died stops renewing and its row stops
    counting once past ``expires_at``.
    """

    id = models.CharField(primary_key=True, max_length=32, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    device = models.ForeignKey(
        Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField(_("slot expires at"), db_index=True)

    class Meta:
        verbose_name = _("relayed exchange slot")
        verbose_name_plural = _("relayed exchange slots")

    def __str__(self) -> str:
        return f"{self.pk} ({self.device_id})"
