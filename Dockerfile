# visionA Cloud: one slim image for every role, run as a non-root user. The command
# picks the role (deploy/docker-entrypoint.sh): web (the default: gunicorn, gthread
# workers), relay, worker, migrate, manage ARGS... (compose.yaml, docs/production.md).
# A second target, nginx, is the front server with the shipped configuration and this
# build's static files; `docker build .` builds the app (the last stage).
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VISIONA_DATA_DIR=/app/var \
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
# (a copied .env.example works), owned by the app's user; mount a volume there. Its
# models/ exists already, so a new volume mounted there (compose.yaml's models) takes
# its owner: the app can write it.
# collectstatic writes /app/staticfiles (with nginx's error pages, write_error_pages) and
# build_client the agent's wheel to /app/downloads
# (served at /downloads/), both outside it, so a volume never hides the files.
# It needs settings to import; these throwaway values never reach runtime.
# The static files are collected with their manifest (hashed, compressed), and the
# marker beside them keeps it on at run time whatever an env file says
# (visiona/settings/web.py, STATIC_MANIFEST_MARKER).
RUN useradd --system --uid 10001 --home-dir /app/var visiona \
    && mkdir -p /app/var/models \
    && chown -R visiona /app/var \
    && DEBUG=0 SECRET_KEY=build-only-$(python -c "import secrets; print(secrets.token_hex(32))") \
    ALLOWED_HOSTS=build.invalid VISIONA_DATA_DIR=/tmp/build-data VISIONA_STATIC_MANIFEST=1 sh -c \
    "python manage.py collectstatic --no-input && python manage.py write_error_pages \
    && python manage.py build_client" \
    && touch /app/staticfiles/.collected-by-image-build \
    && rm -rf /tmp/build-data

USER visiona
VOLUME /app/var
# 8000: web (PORT). A relay node listens on 3800 (agents dial it, through TLS in front)
# and 3801 (web instances only, RELAY_INTERNAL_SECRET; never published).
EXPOSE 8000 3800

# The check follows the role (deploy/healthcheck.py): web GET /healthz, relay GET
# /readyz on its internal port, worker its process and PostgreSQL; migrate and
# manage have nothing to check.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py"]

ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]
CMD ["web"]

# The front server (compose.yaml's nginx, --target nginx): the official image, the shipped
# configuration (deploy/nginx/: its templates are rendered from the container's
# environment at start, TLS included) and this build's static files and error pages, so
# nginx and the app always come from one build.
FROM nginx:1.28-alpine AS nginx
# compose.yaml's health check asks nginx over TLS for the app's /healthz.
RUN apk add --no-cache curl && rm -f /etc/nginx/conf.d/default.conf
COPY deploy/nginx/nginx.conf /etc/nginx/nginx.conf
COPY deploy/nginx/visiona/ /etc/nginx/visiona/
COPY deploy/nginx/templates/ deploy/nginx/tls/ /etc/nginx/templates/
COPY --from=app /app/staticfiles/ /srv/visiona/static/

# The default target: the app.
FROM app
