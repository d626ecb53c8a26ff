"""Devices, the tunnel relay and the background worker."""

from django.core.exceptions import ImproperlyConfigured

from visiona.env import env_int, env_str
from visiona.settings.core import BASE_DIR, DEBUG, _development_secret

_MIB = 1024 * 1024

# --- Devices --------------------------------------------------------------
# A pairing code works once and only this many minutes after it is shown.
DEVICE_PAIRING_CODE_TTL_MINUTES = env_int("DEVICE_PAIRING_CODE_TTL_MINUTES", 10, minimum=1)
# Unused, unexpired codes one user may hold at once.
DEVICE_PAIRING_MAX_ACTIVE_CODES = env_int("DEVICE_PAIRING_MAX_ACTIVE_CODES", 5, minimum=1)
# Failed code exchanges allowed per client address and per code prefix in one window.
DEVICE_PAIRING_RATE_LIMIT = env_int("DEVICE_PAIRING_RATE_LIMIT", 10, minimum=1)
DEVICE_PAIRING_RATE_LIMIT_WINDOW_SECONDS = env_int(
    "DEVICE_PAIRING_RATE_LIMIT_WINDOW_SECONDS", 15 * 60, minimum=1
)
# A device without a tunnel is online while its last heartbeat is at most this old.
DEVICE_ONLINE_THRESHOLD_SECONDS = env_int("DEVICE_ONLINE_THRESHOLD_SECONDS", 90, minimum=3)
# While its tunnel is open an agent sends a heartbeat this often (or on a change of
# status): its relay says it is alive. An agent without a tunnel beats at a third of
# the threshold above.
DEVICE_TUNNEL_HEARTBEAT_SECONDS = env_int("DEVICE_TUNNEL_HEARTBEAT_SECONDS", 3600, minimum=1)
# A device token expires this many days after pairing; the agent then pairs again.
DEVICE_TOKEN_TTL_DAYS = env_int("DEVICE_TOKEN_TTL_DAYS", 365, minimum=1)
# The agent's wheel (`manage.py build_client`), served at /downloads/. Like STATIC_ROOT
# it belongs to the build (the image), so a volume on the data folder never hides it.
CLIENT_DOWNLOADS_DIR = BASE_DIR / "downloads"

# --- Tunnel relay (docs/tunnel.md) ---------------------------------------


def _relay_internal_secret() -> str:
    """The shared secret of the relay nodes' internal port (web -> relay).

    Empty with DEBUG on: one generated into the data folder, shared by `make run`'s
    web server and relay. Empty with DEBUG off: no relay is configured
    (run_relay refuses to start); set, it must be 50+ characters.
    """
    secret = env_str("RELAY_INTERNAL_SECRET")
    if secret:
        if not DEBUG and len(secret) < 50:
            raise ImproperlyConfigured(
                "RELAY_INTERNAL_SECRET must be a random value of 50+ characters"
            )
        return secret
    if not DEBUG:
        return ""
    return _development_secret("relay_secret")


RELAY_INTERNAL_SECRET = _relay_internal_secret()
# Where agents dial (the heartbeat answer tells them); TLS (wss://) in front in production.
RELAY_PUBLIC_URL = env_str("RELAY_PUBLIC_URL", "ws://127.0.0.1:3800/tunnel")
# How web instances reach this node's internal port (written into the registry);
# empty: http://<--host>:<--internal-port>. `run_relay --advertise-url` overrides it.
RELAY_NODE_INTERNAL_URL = env_str("RELAY_NODE_INTERNAL_URL").rstrip("/")
# Largest request body relayed to a device (413 payload_too_large past it).
RELAY_MAX_BODY_BYTES = env_int("RELAY_MAX_BODY_BYTES", 16 * _MIB, minimum=1)
# Seconds the relay waits for a device's answer headers (504 device_timeout past them).
RELAY_REQUEST_TIMEOUT_SECONDS = env_int("RELAY_REQUEST_TIMEOUT_SECONDS", 30, minimum=1)
# Tunnel handshakes a relay node takes per second; past it, 503 with Retry-After
# (a reconnect storm spread out). 0: no limit.
RELAY_HANDSHAKES_PER_SECOND = env_int("RELAY_HANDSHAKES_PER_SECOND", 200, minimum=0)
# A relay node writes a connected device's last_seen_at this often (and when its
# tunnel opens or closes): the database's share of liveness (docs/tunnel.md).
RELAY_LAST_SEEN_WRITE_SECONDS = env_int("RELAY_LAST_SEEN_WRITE_SECONDS", 900, minimum=10)
# How often agents ping their tunnel, told to each in the handshake: a relay node closes
# a tunnel silent for this plus 10 s (docs/tunnel.md, "Liveness"). Lower finds a pulled
# plug sooner and costs relay CPU in proportion (docs/capacity.md). At most 60: nginx
# closes a tunnel quiet for 75 s (deploy/nginx/templates/visiona-locations.inc.template).
RELAY_AGENT_PING_SECONDS = env_int("RELAY_AGENT_PING_SECONDS", 30, minimum=5, maximum=60)
# Seconds without a byte from the device (or of the request body) before the relay
# ends the exchange: 504 before the answer started, a cut body after.
RELAY_IDLE_TIMEOUT_SECONDS = env_int("RELAY_IDLE_TIMEOUT_SECONDS", 30, minimum=1)
# Seconds an exchange may last in all, however it trickles.
RELAY_EXCHANGE_TIMEOUT_SECONDS = env_int("RELAY_EXCHANGE_TIMEOUT_SECONDS", 600, minimum=1)
# Concurrent relayed exchanges per user and per device, across every web instance
# (Redis, else the database): over either, 429 too_many_device_requests at once.
RELAY_MAX_EXCHANGES_PER_USER = env_int("RELAY_MAX_EXCHANGES_PER_USER", 20, minimum=1)
RELAY_MAX_EXCHANGES_PER_DEVICE = env_int("RELAY_MAX_EXCHANGES_PER_DEVICE", 10, minimum=1)
# The lease of a slot: renewed every third of it while its exchange lives; a dead
# holder's slots stop counting after it.
RELAY_SLOT_TTL_SECONDS = env_int("RELAY_SLOT_TTL_SECONDS", 10, minimum=2)

# --- Background worker (docs/architecture.md) ------------------------------
# Tasks are rows in the database, taken by `manage.py db_worker` (a process of its own:
# `make run` starts one, production runs it as the worker service). Another backend (e.g.
# django_tasks.backends.immediate.ImmediateBackend, which runs a task at once in the
# caller) only for tests and debugging.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
