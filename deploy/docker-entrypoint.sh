#!/bin/sh
# The image's entrypoint: one image, and its first argument picks the role.
#
#   web              gunicorn (gthread workers) on $PORT                      (the default)
#   relay            a tunnel relay node: agents on $RELAY_TUNNEL_PORT, web instances
#                    on $RELAY_INTERNAL_PORT (keep that one private)
#   worker           the background task worker (django-tasks' db_worker)
#   migrate          apply the database migrations, then exit (before every release)
#   manage ARGS...   any manage.py command, e.g. `manage createsuperuser`
#   healthcheck      the health check of the role this container runs (deploy/healthcheck.py)
#   anything else    run as given (e.g. `sh`)
#
# Extra arguments after web, relay and worker go to their command.
set -eu

# The project folder (/app in the image), wherever this script is called from.
cd "$(dirname "$0")/.."

role="${1:-web}"
[ "$#" -gt 0 ] && shift
run_dir="${VISIONA_RUN_DIR:-/tmp}"
listen="${VISIONA_LISTEN_HOST:-0.0.0.0}"

# What the health check is to look at: a file, since `docker exec` (which runs the
# check) sees the container's environment, not what this script decided. Only the
# long-running roles write it: a one-off `manage` in a running container leaves it.
remember() {
    printf '%s\n' "$1" > "$run_dir/visiona-role"
}

case "$role" in
    web)
        remember web
        # gunicorn's settings (gthread workers and threads, timeouts, logs) are in one
        # file the loopback stack loads too; the address is the container's.
        export GUNICORN_BIND="${GUNICORN_BIND:-$listen:${PORT:-8000}}"
        exec gunicorn -c deploy/gunicorn.conf.py visiona.wsgi:application "$@"
        ;;
    relay)
        remember relay
        # Listening on every address, a node advertises its own (run_relay): each
        # replica of the service is reachable under the address it writes in the registry.
        exec python manage.py run_relay \
            --host "$listen" \
            --tunnel-port "${RELAY_TUNNEL_PORT:-3800}" \
            --internal-port "${RELAY_INTERNAL_PORT:-3801}" \
            "$@"
        ;;
    worker)
        remember worker
        # exec keeps this process id: the health check asks whether it still runs.
        printf '%s\n' "$$" > "$run_dir/visiona-worker.pid"
        exec python manage.py db_worker "$@"
        ;;
    migrate)
        exec python manage.py migrate --no-input "$@"
        ;;
    manage)
        exec python manage.py "$@"
        ;;
    healthcheck)
        exec python deploy/healthcheck.py "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
