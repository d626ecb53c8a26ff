"""visionA's WSGI application with the upload proxy's ONNX pre-flight turned off, for
measuring what the scan costs under gunicorn (``preflight_proxy_bench.py``) only.

The model part then passes unwatched: no scanner is fed, nothing is held back, and
no warning is stored; everything else is the product's own code.
"""

from __future__ import annotations

from conversion.preflight import UploadPreflight
from visiona.wsgi import application  # noqa: F401  (what gunicorn serves; sets Django up)

UploadPreflight.observer_for = lambda self, name, filename: None
UploadPreflight.warnings = lambda self, platform: []
