"""How My models links a converted model to the page of the conversion it came from
(registered in ``ConversionConfig.ready()``; the repository knows no conversion)."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from conversion.models import ConversionJob
from models_repo.models import NefModel


def conversion_page_url(model: NefModel) -> str | None:
    """The job's page, while the job is still recorded (a link never 404s)."""
    if not ConversionJob.objects.filter(
        job_id=model.source_reference, owner=model.owner_id
    ).exists():
        return None
    try:
        return reverse("conversion-job", args=[model.source_reference])
    except NoReverseMatch:  # a reference that is not a job id
        return None
