# visionA Cloud: a slim image running gunicorn (gthread workers) as a non-root user.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VISIONA_DATA_DIR=/app/var \
    VISIONA_STATIC_MANIFEST=1 \
    PORT=8000

WORKDIR /app
# The runtime lock: every package pinned and hashed (docs/dependencies.md).
COPY requirements.txt .
RUN pip install --require-hashes -r requirements.txt

COPY . .
# The client distribution (client/): the server imports its ONNX pre-flight; a local
# folder no hash pins, its dependencies are in the lock.
RUN pip install --no-deps ./client
# The data folder is /app/var, where `./var` and an empty VISIONA_DATA_DIR also point
# (a copied .env.example works), owned by the app's user; mount a volume there.
# collectstatic writes /app/staticfiles (with nginx's error pages, write_error_pages) and
# build_client the agent's wheel to /app/downloads
# (served at /downloads/), both outside it, so a volume never hides the files.
# It needs settings to import; these throwaway values never reach runtime.
RUN useradd --system --uid 10001 --home-dir /app/var visiona \
    && mkdir -p /app/var \
    && chown visiona /app/var \
    && DEBUG=0 SECRET_KEY=build-only-$(python -c "import secrets; print(secrets.token_hex(32))") \
    ALLOWED_HOSTS=build.invalid VISIONA_DATA_DIR=/tmp/build-data sh -c \
    "python manage.py collectstatic --no-input && python manage.py write_error_pages \
    && python manage.py build_client" \
    && rm -rf /tmp/build-data

USER visiona
VOLUME /app/var
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4).status == 200 else 1)"

# A tunnel relay node is a second process from this image (README, "Relay nodes"):
#   python manage.py run_relay --host 0.0.0.0 --tunnel-port 3800 --internal-port 3801
# 3800 is where agents dial (TLS in front, passing WebSocket upgrades); 3801 is for
# web instances only (RELAY_INTERNAL_SECRET), never published.

# gunicorn's settings are in one file the loopback stack runs too (deploy/gunicorn.conf.py:
# gthread, GUNICORN_WORKERS x GUNICORN_THREADS, on PORT); nginx goes in front
# (deploy/nginx/, docs/streams.md).
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "visiona.wsgi:application"]
