"""The errors devices raise; the API turns them into the envelope."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from visiona.errors import AppError


class PairingCodeInvalid(AppError):
    # One answer for a wrong, expired or used code: no oracle for guessers.
    status = 400
    code = "pairing_code_invalid"
    message = _("This pairing code is not valid. It may be mistyped, expired or already used.")


class SerialAlreadyPaired(AppError):
    status = 409
    code = "serial_already_paired"
    message = _("A device with this serial number is already paired. Unpair it first.")


class DeviceNotFound(AppError):
    status = 404
    code = "device_not_found"
    message = _("This device does not exist or is not yours.")


class PairingCodeNotFound(AppError):
    status = 404
    code = "pairing_code_not_found"
    message = _("This pairing code does not exist or is not yours.")


class DeviceTokenNotFound(AppError):
    status = 404
    code = "device_token_not_found"
    message = _("This device token does not exist.")


class DeviceTokenInvalid(AppError):
    status = 401
    code = "device_token_invalid"
    message = _("The device token is not valid. It may have expired, been revoked or unpaired.")


class TooManyPairingCodes(AppError):
    status = 429
    code = "too_many_pairing_codes"
    message = _(
        "You already have several pairing codes waiting. Use one, revoke the ones you do "
        "not need, or wait until they expire."
    )

    @classmethod
    def at_most(cls, limit: int) -> TooManyPairingCodes:
        return cls(
            ngettext(
                "You already have %(count)d pairing code waiting, the most you can have at "
                "once. Use it, revoke it, or wait until it expires.",
                "You already have %(count)d pairing codes waiting, the most you can have at "
                "once. Use one, revoke the ones you do not need, or wait until they expire.",
                limit,
            )
            % {"count": limit},
            details={"limit": limit},
        )


class PairingCodeAlreadyUsed(AppError):
    status = 409
    code = "pairing_code_used"
    message = _("This pairing code has already paired a device. Unpair the device to undo it.")


# Reaching a device through the tunnel (docs/tunnel.md). The relay node names
# the same codes in its X-Relay-Error header; devices/relay_client.py maps them.


class DeviceOffline(AppError):
    status = 503
    code = "device_offline"
    message = _("This device is not connected right now. Start its agent and try again.")


class DeviceUnreachable(AppError):
    status = 502
    code = "device_unreachable"
    message = _("The device did not answer: its connection was lost or its local API is down.")


class DeviceTimeout(AppError):
    status = 504
    code = "device_timeout"
    message = _("The device took too long to answer.")


class DeviceBadAnswer(AppError):
    status = 502
    code = "device_bad_answer"
    message = _("The device sent an answer that is not valid HTTP.")


class RelayTooManyExchanges(AppError):
    # Over a cap on concurrent relayed exchanges (docs/tunnel.md, "Caps"): at once,
    # never a wait. Retry-After and details (which cap, its limit) are set per case.
    status = 429
    code = "too_many_device_requests"
    message = _(
        "Too many requests to your devices are open at once. Wait for some to finish and try again."
    )


class RelayBodyTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    message = _("The request is too large to send to the device.")


class RelayRequestInterrupted(AppError):
    status = 400
    code = "request_interrupted"
    message = _("The request was interrupted before its body was sent in full.")


class RelayPathInvalid(AppError):
    status = 400
    code = "malformed_request"
    message = _("This path cannot be relayed to the device.")


class TunnelUnavailable(AppError):
    status = 503
    code = "tunnel_unavailable"
    message = _("Devices cannot be reached right now. Please try again in a moment.")
