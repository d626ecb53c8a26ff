"""The errors devices raise; the API turns them into the envelope."""

from django.utils.translation import gettext_lazy as _

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
        "You already have several pairing codes waiting. Use one or wait until they expire."
    )
