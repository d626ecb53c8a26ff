"""Writes about devices: pairing codes, the pairing exchange, heartbeats, unpair.

Plain codes and tokens exist only in the return value of the call that makes
them; everything stored or logged is a hash or a public id.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from devices import credentials, registry, selectors, token_changes
from devices.choices import PairingCodeStatus, RegistrationStatus
from devices.errors import (
    DeviceNotFound,
    DeviceTokenInvalid,
    PairingCodeAlreadyUsed,
    PairingCodeInvalid,
    SerialAlreadyPaired,
    TooManyPairingCodes,
)
from devices.models import Device, DeviceToken, PairingCode
from devices.ratelimit import FailureLimit, failure_limited
from visiona.models import User

logger = logging.getLogger(__name__)

# A token's last use is written at most this often, not on every heartbeat.
_LAST_USED_RESOLUTION = timedelta(seconds=60)
_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class IssuedPairingCode:
    pairing_code: PairingCode
    code: str  # plain, as displayed (ABCD-EFGH): show it once, never store it


@dataclass(frozen=True)
class PairingResult:
    device: Device
    device_token: DeviceToken
    token: str  # plain: hand it to the agent once, never store it


def _pairing_limit() -> FailureLimit:
    return FailureLimit(
        "pair-address",
        settings.DEVICE_PAIRING_RATE_LIMIT,
        settings.DEVICE_PAIRING_RATE_LIMIT_WINDOW_SECONDS,
    )


def _address_key(client_address: str) -> str:
    """The guesser's identity for the limit: its IPv4 address, or its IPv6 /64 (one
    host commonly holds a whole /64, so single IPv6 addresses would not limit it)."""
    try:
        address = ipaddress.ip_address(client_address)
    except ValueError:
        return "-"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def pairing_code_create(*, user: User) -> IssuedPairingCode:
    """A new one-time code for ``user``; expires after DEVICE_PAIRING_CODE_TTL_MINUTES."""
    if selectors.pairing_codes_pending_count(user=user) >= settings.DEVICE_PAIRING_MAX_ACTIVE_CODES:
        raise TooManyPairingCodes.at_most(settings.DEVICE_PAIRING_MAX_ACTIVE_CODES)
    expires_at = timezone.now() + timedelta(minutes=settings.DEVICE_PAIRING_CODE_TTL_MINUTES)
    for _attempt in range(_CODE_ATTEMPTS):
        code = credentials.pairing_code_generate()
        try:
            # A savepoint: a clash with an old code's hash must not spoil a caller's transaction.
            with transaction.atomic():
                pairing_code = PairingCode.objects.create(
                    code_hash=credentials.pairing_code_hash(code), owner=user, expires_at=expires_at
                )
        except IntegrityError:
            continue
        logger.info(
            "pairing code created",
            extra={"pairing_code_id": str(pairing_code.public_id), "user_id": user.pk},
        )
        return IssuedPairingCode(pairing_code, credentials.pairing_code_display(code))
    raise IntegrityError("could not find a free pairing code")  # pragma: no cover


def pairing_code_revoke(*, pairing_code: PairingCode) -> PairingCode:
    """Ends a waiting code now: it expires this moment, so no agent can pair with it and
    it no longer counts against DEVICE_PAIRING_MAX_ACTIVE_CODES. An expired code stays
    as it is; a used one is refused (PairingCodeAlreadyUsed).

    Conditional on "still waiting", so it and a concurrent exchange cannot both win: the
    exchange locks the row, and this update then finds the code used (or the exchange
    finds it expired).
    """
    now = timezone.now()
    ended = PairingCode.objects.filter(
        pk=pairing_code.pk, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    pairing_code.refresh_from_db()
    if not ended and pairing_code.used_at is not None:
        raise PairingCodeAlreadyUsed()
    if ended:
        logger.info(
            "pairing code revoked",
            extra={
                "pairing_code_id": str(pairing_code.public_id),
                "user_id": pairing_code.owner_id,
            },
        )
    return pairing_code


def device_pair(
    *,
    code: str,
    serial: str,
    chip: str,
    name: str = "",
    agent_version: str = "",
    client_address: str = "",
) -> PairingResult:
    """The agent's exchange: a pairing code for a new device and its token.

    Wrong, expired and used codes all fail the same way and count against the
    caller's address (IPv6: its /64); past the limit the answer is 429, before the
    code is looked at. Nothing is keyed on the code itself: a stranger who knows a
    code's first characters cannot spend its owner's attempts (docs/agent.md).
    """
    address = client_address or "-"
    try:
        with failure_limited((_pairing_limit(), _address_key(address)), failure=PairingCodeInvalid):
            result = _pair_exchange(
                code=code, serial=serial, chip=chip, name=name, agent_version=agent_version
            )
    except PairingCodeInvalid:
        logger.warning("pairing refused: invalid code", extra={"client_address": address})
        raise
    logger.info(
        "device paired",
        extra={
            "device_id": str(result.device.pk),
            "user_id": result.device.owner_id,
            "chip": result.device.chip,
            "device_token_id": str(result.device_token.public_id),
        },
    )
    return result


def _pair_exchange(
    *, code: str, serial: str, chip: str, name: str, agent_version: str
) -> PairingResult:
    normalized = credentials.pairing_code_normalize(code)
    if normalized is None:
        raise PairingCodeInvalid()
    code_hash = credentials.pairing_code_hash(normalized)
    # One transaction: if marking the code used fails, the rollback takes the issued
    # token (and the device) with it, so no usable token outlives a failed exchange.
    with transaction.atomic():
        now = timezone.now()
        # The row lock makes concurrent uses of one code wait here (PostgreSQL).
        pairing_code = PairingCode.objects.select_for_update().filter(pk=code_hash).first()
        if pairing_code is None or pairing_code.status(now) != PairingCodeStatus.PENDING:
            raise PairingCodeInvalid()
        if not User.objects.filter(pk=pairing_code.owner_id, is_active=True).exists():
            raise PairingCodeInvalid()  # a deactivated user pairs nothing
        device = _device_create(
            owner_id=pairing_code.owner_id,
            serial=serial,
            chip=chip,
            name=name,
            agent_version=agent_version,
        )
        device_token, token = _device_token_issue(device=device, now=now)
        _pairing_code_mark_used(pairing_code=pairing_code, device=device, now=now)
    return PairingResult(device, device_token, token)


def _device_create(
    *, owner_id: int, serial: str, chip: str, name: str, agent_version: str
) -> Device:
    try:
        with transaction.atomic():
            return Device.objects.create(
                owner_id=owner_id,
                serial=serial,
                chip=chip,
                name=name.strip() or serial,
                agent_version=agent_version,
            )
    except IntegrityError:
        # The only unique rule a new device can break is the live-serial one.
        raise SerialAlreadyPaired() from None


def _device_token_issue(*, device: Device, now) -> tuple[DeviceToken, str]:
    token = credentials.device_token_generate()
    device_token = DeviceToken.objects.create(
        token_hash=credentials.device_token_hash(token),
        device=device,
        expires_at=now + timedelta(days=settings.DEVICE_TOKEN_TTL_DAYS),
    )
    return device_token, token


def _pairing_code_mark_used(*, pairing_code: PairingCode, device: Device, now) -> None:
    # Conditional on "still unused" so that, even without row locks (SQLite),
    # only one exchange can win the code.
    marked = PairingCode.objects.filter(pk=pairing_code.pk, used_at__isnull=True).update(
        used_at=now, device=device
    )
    if marked != 1:
        raise PairingCodeInvalid()


def device_token_authenticate(*, token: str) -> DeviceToken:
    """The usable token for a plain bearer value, or DeviceTokenInvalid."""
    if not credentials.device_token_looks_valid(token):
        raise DeviceTokenInvalid()
    now = timezone.now()
    device_token = (
        DeviceToken.objects.usable(now)
        .select_related("device", "device__owner")
        .filter(pk=credentials.device_token_hash(token))
        .first()
    )
    if device_token is None:
        raise DeviceTokenInvalid()
    if device_token.last_used_at is None or device_token.last_used_at < now - _LAST_USED_RESOLUTION:
        DeviceToken.objects.filter(pk=device_token.pk).update(last_used_at=now)
        device_token.last_used_at = now
    return device_token


def device_heartbeat(*, device: Device, agent_status: str, agent_version: str = "") -> Device:
    """Record the agent's heartbeat (its status, its latest sign of life). Online is
    its tunnel's (devices/presence.py); the heartbeat decides only while the tunnel
    registry cannot answer, until the threshold passes."""
    now = timezone.now()
    fields = {
        "last_seen_at": now,
        "last_heartbeat_at": now,
        "agent_status": agent_status,
        "updated_at": now,
    }
    if agent_version:
        fields["agent_version"] = agent_version
    # Filtered on "live" so a heartbeat racing an unpair cannot revive anything.
    if not Device.objects.live().filter(pk=device.pk).update(**fields):
        raise DeviceTokenInvalid()
    for field, value in fields.items():
        setattr(device, field, value)
    return device


def device_rename(*, device: Device, name: str) -> Device:
    device.name = name.strip()
    device.save(update_fields=["name", "updated_at"])
    logger.info("device renamed", extra={"device_id": str(device.pk)})
    return device


@transaction.atomic
def device_unpair(*, device: Device) -> None:
    """Unpair: every token of the device is revoked, what the apps above registered
    done (deployments: its unfinished ones cancelled) and the device removed, together."""
    now = timezone.now()
    revoked = _device_tokens_revoke_all(device=device, now=now)
    token_changes.note_change()
    for step in registry.unpair_steps():
        step(device=device)
    _device_mark_unpaired(device=device, now=now)
    logger.info(
        "device unpaired",
        extra={"device_id": str(device.pk), "user_id": device.owner_id, "tokens_revoked": revoked},
    )


def _device_tokens_revoke_all(*, device: Device, now) -> int:
    return DeviceToken.objects.filter(device=device, revoked_at__isnull=True).update(revoked_at=now)


def _device_mark_unpaired(*, device: Device, now) -> None:
    updated = Device.objects.filter(pk=device.pk, deleted_at__isnull=True).update(
        deleted_at=now, registration_status=RegistrationStatus.UNPAIRED, updated_at=now
    )
    if updated != 1:
        raise DeviceNotFound()
    device.deleted_at = now
    device.registration_status = RegistrationStatus.UNPAIRED


def device_token_revoke(*, device_token: DeviceToken) -> None:
    """Revoke one token; the device stays paired (its agent then needs a new pairing)."""
    now = timezone.now()
    DeviceToken.objects.filter(pk=device_token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token_changes.note_change()
    device_token.revoked_at = device_token.revoked_at or now
    logger.info(
        "device token revoked",
        extra={
            "device_id": str(device_token.device_id),
            "device_token_id": str(device_token.public_id),
        },
    )
