"""The errors personal API tokens raise; the API turns them into the envelope."""

from django.utils.translation import gettext_lazy as _

from visiona.api.scopes import scope_name
from visiona.errors import AppError


class TokenInvalid(AppError):
    # An unknown bearer value; also what a device token gets outside /api/agent/.
    status = 401
    code = "token_invalid"
    message = _("This API token is not valid. Create a new one on the API tokens page.")
    auth_header = 'Bearer realm="api"'


class TokenExpired(TokenInvalid):
    code = "token_expired"
    message = _("This API token has expired. Create a new one on the API tokens page.")


class TokenRevoked(TokenInvalid):
    code = "token_revoked"
    message = _("This API token has been revoked. Create a new one on the API tokens page.")


class TokenScopeMissing(AppError):
    status = 403
    code = "token_scope_missing"
    message = _("This API token does not have the scope this needs.")

    @classmethod
    def for_scope(cls, *, required: str, granted: list[str], tokens_url: str):
        """Names the scope and the way to one: a token's scopes never change, so a
        new token (with it ticked) is the only way."""
        message = _(
            "This API token lacks the “%(scope)s” scope this needs. Create a token with "
            "“%(scope)s” ticked on the API tokens page (%(url)s) and use it instead: a "
            "token's scopes cannot be changed."
        ) % {"scope": scope_name(required), "url": tokens_url}
        details = {"required": required, "granted": granted, "tokens_url": tokens_url}
        return cls(message, details=details)


class TokenNotAllowed(AppError):
    # Managing tokens takes a signed-in session: a token cannot mint or revoke tokens.
    status = 403
    code = "token_not_allowed"
    message = _("API tokens cannot do this: sign in on the website instead.")


class TokenNotFound(AppError):
    status = 404
    code = "token_not_found"
    message = _("This API token does not exist or is not yours.")


class TooManyTokens(AppError):
    status = 409
    code = "too_many_tokens"
    message = _("You have too many active API tokens. Revoke one you no longer use first.")
