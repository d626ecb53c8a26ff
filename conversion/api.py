"""The conversion JSON API. Views validate, call a service, serialize."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.response import Response
from rest_framework.views import APIView

from conversion import services
from conversion.models import ConversionJob


class UnparsedMultipartParser(BaseParser):
    """Claims multipart/form-data and reads nothing.

    The upload view streams the raw body itself. DRF's CSRF check reads
    ``request.POST``; with the default parsers that would parse and spool the
    whole upload before the view runs. With this one it sees an empty form and
    falls back to the X-CSRFToken header.
    """

    media_type = "multipart/form-data"

    def parse(self, stream, media_type=None, parser_context=None) -> DataAndFiles:
        return DataAndFiles({}, {})


class JobOutputSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="platform_code", read_only=True)
    stage = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    saved_model = serializers.SerializerMethodField()

    class Meta:
        model = ConversionJob
        fields = [
            "job_id",
            "status",
            "stage",
            "progress",
            "stage_progress",
            "chip",
            "platform",
            "filename",
            "model_id",
            "version",
            "error",
            "created_at",
            "updated_at",
            "finished_at",
            "expires_at",
            "saved_model",
        ]

    def get_stage(self, job: ConversionJob) -> str | None:
        return job.stage or None

    def get_error(self, job: ConversionJob) -> dict | None:
        if not job.error_code and not job.error_message:
            return None
        return {
            "code": job.error_code,
            "message": job.error_message,
            "stage": job.error_stage or None,
        }

    def get_saved_model(self, job: ConversionJob) -> dict | None:
        model = getattr(job, "saved_model", None)
        if model is None or model.deleted_at is not None:
            return None
        return {"id": model.pk, "name": model.name}


class SavedModelOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    chips = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    source_job_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class ConversionInitApi(APIView):
    """Upload an ONNX model and reference images (multipart), streamed to the converter."""

    parser_classes = [UnparsedMultipartParser]

    def post(self, request):
        # Save the session now: a long upload may outlive it, and a failing save
        # at the end would turn an accepted job into an error.
        request.session.save()
        request.session.modified = False
        job = services.job_start(
            user=request.user,
            stream=request._request,
            content_type=request.META.get("CONTENT_TYPE", ""),
            content_length=_content_length(request),
        )
        return Response(JobOutputSerializer(job).data, status=status.HTTP_201_CREATED)


def _content_length(request) -> int | None:
    try:
        value = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return value if value >= 0 else None


class ConversionActiveApi(APIView):
    """The signed-in user's unfinished job, or null."""

    def get(self, request):
        job = services.active_job_find(user=request.user)
        return Response({"job": JobOutputSerializer(job).data if job else None})


class ConversionJobApi(APIView):
    def get(self, request, job_id: str):
        job = services.job_get(user=request.user, job_id=job_id)
        return Response(JobOutputSerializer(job).data)


class ConversionPromoteApi(APIView):
    """Save the job's NEF into My models. Idempotent: always the same model."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def post(self, request, job_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        model = services.job_promote(
            user=request.user, job_id=job_id, name=data.validated_data.get("name") or None
        )
        output = {
            "id": model.pk,
            "name": model.name,
            "chips": model.chips,
            "source": model.source,
            "size_bytes": model.size_bytes,
            "sha256": model.sha256,
            "source_job_id": job_id,
            "created_at": model.created_at,
        }
        return Response({"model": SavedModelOutputSerializer(output).data})


class ConversionDownloadApi(APIView):
    """302 to FAA with a short-lived delegated token; the token is in Location only."""

    def get(self, request, job_id: str):
        url = services.job_download_url(user=request.user, job_id=job_id)
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response
