"""``GET /api/conversion/``: the user's conversions, newest first, filtered, with
cursor pagination (stable while new jobs arrive, unlike page numbers)."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from conversion import hints, selectors
from conversion.choices import JobStatus
from conversion.serializers import JobOutputSerializer
from visiona.api import fields
from visiona.api.pagination import CursorPagination
from visiona.api.schema import error_response
from visiona.api.scopes import Scope
from visiona.chips import Chip

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class _Rfc3339DateTimeField(serializers.DateTimeField):
    """The document says format date-time (RFC 3339): a full date, time and offset.
    DRF's ISO 8601 parser also takes looser forms, which the document would not."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not _RFC3339.match(value):
            self.fail("invalid", format="YYYY-MM-DDThh:mm:ss[.ffffff]Z or ±hh:mm")
        return super().to_internal_value(value)


class JobCursorPagination(CursorPagination):
    # created_at then the primary key: a unique order, so no job is skipped or repeated.
    ordering = ("-created_at", "-id")
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class JobPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null.")
    previous = serializers.URLField(allow_null=True, help_text="The newer page, or null.")
    results = JobOutputSerializer(many=True)


class ConversionListApi(APIView):
    """Your conversions, newest first: the history page's data."""

    token_scope = Scope.READ

    class FilterSerializer(fields.QuerySerializer):
        # An empty value means no filter, as a form's "any" option sends it.
        status = serializers.ChoiceField(
            choices=[*JobStatus.choices, (hints.CANCELLED_STATUS, hints.CANCELLED_LABEL)],
            required=False,
            allow_blank=True,
            help_text="A job's status, or cancelled: the failed jobs their user cancelled "
            "(error code cancelled; status=failed lists them too).",
        )
        platform = serializers.ChoiceField(
            choices=[chip.platform_code for chip in Chip], required=False, allow_blank=True
        )
        created_after = _Rfc3339DateTimeField(
            required=False, help_text="Started at or after this time (RFC 3339)."
        )
        created_before = _Rfc3339DateTimeField(
            required=False, help_text="Started before this time (RFC 3339)."
        )
        cursor = serializers.CharField(
            required=False, max_length=500, help_text="From a previous answer's next link."
        )
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)

    @extend_schema(
        operation_id="conversion_list",
        parameters=[FilterSerializer],
        responses={
            200: JobPageSerializer,
            400: error_response("validation_failed: a filter, or the cursor, is not valid."),
        },
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        platform = values.get("platform") or ""
        jobs = selectors.job_history_for_user(
            user=request.user,
            status=values.get("status") or "",
            chip=Chip.from_platform_code(platform).value if platform else "",
            created_after=values.get("created_after"),
            created_before=values.get("created_before"),
        )
        paginator = JobCursorPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(JobOutputSerializer(page, many=True).data)
