"""Inputs that accept what the OpenAPI document says, and nothing more."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty


class _TextOnly:
    """DRF's CharField turns a number into text; the document says string, so a
    number (or a boolean) is refused like any other wrong type."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CharField(_TextOnly, serializers.CharField):
    pass


class RegexField(_TextOnly, serializers.RegexField):
    pass


class QuerySerializer(serializers.Serializer):
    """For query parameters: one that is repeated (``?page=1&page=2``) is refused,
    where a QueryDict would quietly take the last; the document says one value."""

    def is_valid(self, *, raise_exception: bool = False) -> bool:
        # No parameter at all (most list requests): every field's default, as DRF's
        # validation gives it, without building the serializer's fields (DRF deep-copies
        # every declared field for each instance: a tenth of a small request's CPU).
        declared = self._declared_fields.values()
        if (
            self.initial_data is not empty
            and not self.initial_data
            and not any(field.required for field in declared)
        ):
            self._validated_data = {
                name: field.default() if callable(field.default) else field.default
                for name, field in self._declared_fields.items()
                if field.default is not empty and not field.read_only
            }
            self._errors = {}
            return True
        return super().is_valid(raise_exception=raise_exception)

    def to_internal_value(self, data):
        repeated = [name for name in self.fields if len(data.getlist(name)) > 1]
        if repeated:
            message = _("Send this parameter once.")
            raise serializers.ValidationError({name: [message] for name in repeated})
        # DRF reads ``?page=`` as absent for an optional field; the document says an
        # integer (or a date-time...), so an empty value is refused unless blank is allowed.
        blank = [
            name
            for name, field in self.fields.items()
            if data.get(name) == "" and not getattr(field, "allow_blank", False)
        ]
        if blank:
            message = _("Give a value, or leave the parameter out.")
            raise serializers.ValidationError({name: [message] for name in blank})
        return super().to_internal_value(data)
