"""DRF authentication for the agent API: ``Authorization: Bearer <device token>``."""

from __future__ import annotations

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

from devices import services
from devices.errors import DeviceTokenInvalid
from devices.models import DeviceToken


class DeviceTokenAuthentication(BaseAuthentication):
    """Sets ``request.user`` to the device's owner and ``request.auth`` to the DeviceToken.

    No header: not authenticated (401 ``unauthenticated``). A bearer value that
    is not a usable token: 401 ``device_token_invalid``.
    """

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise DeviceTokenInvalid()
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise DeviceTokenInvalid() from None
        device_token = services.device_token_authenticate(token=token)
        return device_token.device.owner, device_token

    def authenticate_header(self, request) -> str:
        # A challenge makes DRF answer 401 rather than 403 when the header is missing.
        return 'Bearer realm="agent"'


class IsDeviceAgent(BasePermission):
    """Only a request carrying a device token: a signed-in user is not an agent."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, DeviceToken)
