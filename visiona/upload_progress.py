"""The texts of the upload progress box (templates/partials/upload_progress.html and
static/js/upload-progress.js), shared by every page that uploads a large file."""

from __future__ import annotations

from django.utils.translation import gettext as _

from visiona.durations import duration_messages


def upload_progress_messages(*, processing: str, cancelled: str) -> dict:
    """For the page's json_script. ``processing``: what happens once every byte is sent;
    ``cancelled``: what the user is told after Cancel (what was not done)."""
    return {
        "uploading": _("Uploading…"),
        "progress": _("%(percent)s · %(sent)s of %(total)s · %(speed)s/s · %(left)s left"),
        "processing": processing,
        "cancelled": cancelled,
        "networkError": _(
            "The upload failed: the connection was lost. Check your network and try again."
        ),
        "unexpected": _("Something went wrong. Please try again."),
        "duration": duration_messages(),
    }
