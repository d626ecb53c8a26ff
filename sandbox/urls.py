"""Mounted at /sandbox/ only when VISIONA_SANDBOX is on (visiona/urls.py)."""

from django.urls import include, path

from sandbox import converter_views, faa_views, faults, mc_views, rate_limit

app_name = "sandbox"

member_center = [
    path("oauth/token", mc_views.token, name="mc-token"),
    path("file-access/download-tokens", mc_views.download_tokens, name="mc-download-tokens"),
]
converter = [
    path("health", converter_views.health, name="converter-health"),
    path("api/v1/jobs", converter_views.job_collection, name="converter-jobs"),
    path("api/v1/jobs/<str:job_id>", converter_views.job_detail, name="converter-job"),
    path("api/v1/jobs/<str:job_id>/promote", converter_views.promote, name="converter-promote"),
    path("_inspect/jobs/<str:job_id>", converter_views.inspect_job, name="converter-inspect"),
    path("_inspect/stats", rate_limit.stats_view, name="converter-stats"),
]
file_access_agent = [
    path("files/<path:key>", faa_views.file, name="faa-file"),
]

urlpatterns = [
    path("mc/", include(member_center)),
    path("converter/", include(converter)),
    path("faa/", include(file_access_agent)),
    path("_faults", faults.faults_view, name="faults"),
]
