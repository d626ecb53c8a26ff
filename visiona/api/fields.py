"""Inputs that accept what the OpenAPI document says, and nothing more."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.utils import html

# What a database integer column (bigint) holds, on PostgreSQL and SQLite alike. A
# larger number reaches neither: SQLite's driver raises OverflowError (a 500), and
# PostgreSQL compares it without error (a silent empty answer), so it is refused first.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class IntegerField(serializers.IntegerField):
    """DRF's IntegerField, bounded to 64 bits unless told a narrower range: a value
    beyond is a 400 validation_failed, the same on both databases."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", INT64_MAX)
        kwargs.setdefault("min_value", INT64_MIN)
        super().__init__(**kwargs)


def bound_to_64_bits(field: serializers.Field) -> None:
    """Give an IntegerField declared without bounds the 64-bit ones, validators and all."""
    if not isinstance(field, serializers.IntegerField):
        return
    if field.max_value is None:
        field.max_value = INT64_MAX
        message = field.error_messages["max_value"].format(max_value=INT64_MAX)
        field.validators.append(MaxValueValidator(INT64_MAX, message=message))
    if field.min_value is None:
        field.min_value = INT64_MIN
        message = field.error_messages["min_value"].format(min_value=INT64_MIN)
        field.validators.append(MinValueValidator(INT64_MIN, message=message))


class _TextOnly(serializers.CharField):
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
    where a QueryDict would quietly take the last; the document says one value. Every
    integer filter is bounded to 64 bits (``bound_to_64_bits``), declared so or not."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            bound_to_64_bits(field)
        return fields

    def to_internal_value(self, data):
        names: list[str] = [str(name) for name in self.fields]
        repeated = [name for name in names if len(data.getlist(name)) > 1]
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


_LIST_FIELDS = (serializers.ListField, serializers.MultipleChoiceField, serializers.ListSerializer)


class InputSerializer(serializers.Serializer):
    """A request body's serializer: a form (urlencoded or multipart) is read as the same
    JSON object would be. DRF reads an empty form field of an optional field as absent
    (``name=`` changes nothing) where the same empty JSON field is validated (``"name":
    ""`` is refused): here both are validated alike, so the document's one description
    holds for every content type the operation takes."""

    def to_internal_value(self, data):
        if html.is_html_input(data):
            names: list[str] = list(data)
            data = {
                name: data.getlist(name)
                if isinstance(self.fields.get(name), _LIST_FIELDS)
                else data.get(name)
                for name in names
            }
        return super().to_internal_value(data)
