"""The sample model a new user can try (static/samples/, built by
sandbox/samples/build_sample.py): offered on the convert page in the sandbox."""

from __future__ import annotations

from django.conf import settings
from django.templatetags.static import static

MODEL = "samples/sample-classifier.onnx"
CALIBRATION = "samples/calibration"
# The sandbox's demo device is a KL720 (visiona_client.demo_device): the sample's NEF
# for that chip deploys to it.
CHIP = "KL720"


def sample_for_page() -> dict | None:
    """What the convert page's "Try the sample model" fetches: the model's and the
    images' URLs and names; None outside the sandbox (or if the files are missing)."""
    if not settings.VISIONA_SANDBOX:
        return None
    folder = settings.BASE_DIR / "static" / CALIBRATION
    images = sorted(path.name for path in folder.glob("*.png"))
    if not images or not (settings.BASE_DIR / "static" / MODEL).is_file():
        return None
    return {
        "model": {"url": static(MODEL), "name": MODEL.rsplit("/", 1)[1]},
        "images": [{"url": static(f"{CALIBRATION}/{name}"), "name": name} for name in images],
        "chip": CHIP,
    }
