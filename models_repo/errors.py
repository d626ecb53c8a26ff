"""The errors the models repository raises; the API turns them into the envelope
and the pages into a field error or an error page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from visiona.errors import AppError, PayloadTooLarge, ValidationFailed
from visiona.sizes import size_limit

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ModelNotFound(AppError):
    # Another user's model answers exactly like an unknown one.
    status = 404
    code = "model_not_found"
    message = _("This model does not exist or is not yours.")


class ReferenceNotFound(AppError):
    status = 404
    code = "reference_not_found"
    message = _("No original ONNX is kept for this model.")


class ModelNameTaken(AppError):
    status = 409
    code = "model_name_taken"
    message = _("You already have a model with this name. Choose another name.")

    def __init__(self) -> None:
        super().__init__(details={"fields": [{"field": "name", "message": str(self.message)}]})


class ModelFileTooLarge(PayloadTooLarge):
    def __init__(self, *, limit_bytes: int) -> None:
        message = gettext("The file is larger than the limit of %(limit)s.") % {
            "limit": size_limit(limit_bytes)
        }
        super().__init__(
            message,
            details={"limit_bytes": limit_bytes, "fields": [{"field": "file", "message": message}]},
        )


def invalid_field(field: str, message: StrOrPromise) -> ValidationFailed:
    """A validation error about one field, shaped like DRF's (``details.fields``)."""
    return ValidationFailed.for_fields([{"field": field, "message": str(message)}])


class ModelFileUnavailable(AppError):
    status = 503
    code = "model_file_unavailable"
    message = _("The model file cannot be read right now. Please try again later.")


class ModelAlreadyStored(AppError):
    """The same file (same SHA-256) is already one of the user's models."""

    status = 409
    code = "model_already_stored"

    def __init__(self, *, model, url: str, field: str | None = "file") -> None:
        """``field``: the form field the refusal is shown next to (an upload's file);
        None where no field brought the bytes (saving a conversion)."""
        message = gettext(
            "You already have this file in My models, as “%(name)s”: it was not stored twice."
        ) % {"name": model.name}
        details: dict = {"model_id": model.pk, "model_url": url}
        if field is not None:
            details["fields"] = [{"field": field, "message": message}]
        super().__init__(message, details=details)
        self.model, self.url = model, url
