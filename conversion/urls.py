from django.urls import path, register_converter

from conversion import api, api_history, limits, views
from visiona.uploads import streamed_upload


class JobIdConverter:
    regex = limits.JOB_ID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(JobIdConverter, "job_id")

api_urlpatterns = [
    path("", api_history.ConversionListApi.as_view(), name="api-conversion-list"),
    # Read as it arrives (nginx does not buffer it): bounded per process and by a floor rate.
    path("init", streamed_upload(api.ConversionInitApi.as_view()), name="api-conversion-init"),
    path("active", api.ConversionActiveApi.as_view(), name="api-conversion-active"),
    path("<job_id:job_id>", api.ConversionJobApi.as_view(), name="api-conversion-job"),
    path(
        "<job_id:job_id>/promote-to-models",
        api.ConversionPromoteApi.as_view(),
        name="api-conversion-promote",
    ),
    path("<job_id:job_id>/cancel", api.ConversionCancelApi.as_view(), name="api-conversion-cancel"),
    path(
        "<job_id:job_id>/download",
        api.ConversionDownloadApi.as_view(),
        name="api-conversion-download",
    ),
]

page_urlpatterns = [
    path("convert/", views.convert_page, name="convert"),
    path("convert/<job_id:job_id>/", views.job_page, name="conversion-job"),
    path("conversions/", views.history_page, name="conversions"),
]
