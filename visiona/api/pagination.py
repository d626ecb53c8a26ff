"""DRF's page-number pagination, without a query for a page the count says is empty,
and its cursor pagination, with a cursor that cannot be read refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Page, Paginator
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound

from visiona.errors import ValidationFailed


class CountFirstPaginator(Paginator):
    """Django's paginator; when the count is 0 the first (and only) page is empty
    without asking the database again (a new user's every list)."""

    def page(self, number):
        number = self.validate_number(number)
        if self.count == 0:
            return Page([], number, self)
        return super().page(number)


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = CountFirstPaginator


class CursorPagination(pagination.CursorPagination):
    """DRF's cursor pagination, with a cursor that cannot be read refused as 400
    ``validation_failed`` naming ``cursor``, never a 404 or a 500.

    DRF answers 404 "Invalid cursor" for one it cannot decode, but passes on the
    position inside a well-encoded one unchecked: a crafted ``p=2026`` reached the
    database and failed there. The position is read as the ordering's first field
    reads it, before any query.
    """

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise _invalid_cursor() from None
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: object) -> None:
        field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            value = field.to_python(position)
            if isinstance(value, datetime):
                # Naive, or out of range once in UTC (year 0 or 10000): no row has it.
                if value.tzinfo is None:
                    raise ValueError(position)
                value.astimezone(UTC)
        except (DjangoValidationError, ValueError, OverflowError):
            raise _invalid_cursor() from None
        if value is None:
            raise _invalid_cursor()


def _invalid_cursor() -> ValidationFailed:
    message = _("This cursor is not valid: follow a page's next or previous link.")
    return ValidationFailed.for_fields([{"field": "cursor", "message": message}])
