"""gunicorn's settings for visionA Cloud, in one place: the image's command and the
loopback stack (deploy/loopback.py) both run ``gunicorn -c deploy/gunicorn.conf.py
visiona.wsgi:application``. Values from the environment, as everything else.

gthread: the sync worker's timeout would kill long uploads; threads serve other
requests while one streams a model to the converter. A request's thread is held only
for the app's own work: nginx in front reads slow clients' bodies and answers
(docs/streams.md), and the app's deadlines end before ``timeout``.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 8)
# The main loop of a gthread worker beats for all its threads, so this ends a worker
# only when the process itself is stuck, not a request.
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = 30
# Above nginx's (large_client_header_buffers 4 8k): an oversized request line or
# header gets nginx's answer in the app's shapes, never gunicorn's bare 400.
limit_request_line = 8190
limit_request_field_size = 8190
# The heartbeat file in memory: a container's disk stalls must not look like a hang.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# "-": one line per request on stdout; empty: none (nginx in front logs every request).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
