"""My models URLs, mounted by visiona/urls.py at /models/ and /api/models/."""

from django.urls import path

from models_repo import api, views
from visiona.uploads import streamed_upload

page_urlpatterns = [
    path("", views.model_list, name="models"),
    # The upload's body is read as it arrives (nginx does not buffer it): visiona/uploads.py.
    path("upload/", streamed_upload(views.model_upload), name="models-upload"),
    path("<int:model_id>/", views.model_detail, name="models-detail"),
    path("<int:model_id>/edit/", views.model_edit, name="models-edit"),
    path("<int:model_id>/delete/", views.model_delete, name="models-delete"),
    path("<int:model_id>/download/", views.model_download, name="models-download"),
    path("<int:model_id>/reference/", views.model_reference, name="models-reference"),
    path(
        "<int:model_id>/reference/forget/",
        views.model_reference_forget,
        name="models-reference-forget",
    ),
]

api_urlpatterns = [
    # A POST here is the upload (streamed_upload: only POSTs are counted and bounded).
    path("", streamed_upload(api.ModelListApi.as_view()), name="api-models"),
    path("<int:model_id>", api.ModelDetailApi.as_view(), name="api-models-detail"),
    path("<int:model_id>/download", api.ModelDownloadApi.as_view(), name="api-models-download"),
    path("<int:model_id>/reference", api.ModelReferenceApi.as_view(), name="api-models-reference"),
]
