"""The running agent: heartbeats to visionA, and the tunnel beside them.

``Agent.run`` blocks until ``stop()`` or until visionA refuses the device. A
network error or a 5xx waits per ``Backoff`` (full jitter, 1 s up to 60 s) and
tries again; a refused token (401/403/404, or a 401/403 tunnel handshake) raises
``DeviceRefused`` at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any, Callable

import requests

from visiona_client import __version__
from visiona_client.backoff import Backoff
from visiona_client.deployments import DeploymentWorker
from visiona_client.runs import RunWorker
from visiona_client.server_api import ServerApi, ServerError
from visiona_client.tunnel import TunnelClient, TunnelRefused
from visiona_client.tunnel_control import RUNS_SYNC_PATH, SYNC_PATH, ControlPaths

logger = logging.getLogger(__name__)

AGENT_VERSION = f"visiona-agent/{__version__}"
LOCAL_CHECK_TIMEOUT_SECONDS = 2.0
# The status heartbeats carry: whether the local device API behind this agent answers.
STATUS_READY = "ready"
STATUS_LOCAL_API_DOWN = "local-api-down"


class DeviceRefused(Exception):
    """visionA refuses this device: token revoked or expired, or the device unpaired."""

    def __init__(self, error: ServerError) -> None:
        super().__init__(
            "visionA refused this device's token: it was revoked or has expired, or the "
            f"device was unpaired ({error.code or f'HTTP {error.status}'}). "
            "Create a new code on visionA's Pair a device page and run visiona-agent pair again."
        )
        self.error = error


class Agent:
    """One paired device's connection to visionA.

    Components run beside each other and share ``_stopping``:

    - the heartbeat loop (``_heartbeat_loop``), in the thread that calls ``run``;
    - the tunnel (``visiona_client.tunnel``), in its own thread started at the top
      of ``run``: it dials the relay URL visionA names in its answers
      (``tunnel_url`` in ``last_answer``; no flag for the user to know),
      authenticates with the same device token, forwards each relayed request to
      ``local_url``, and reconnects with its own ``Backoff``. A refusal in either
      stops both: ``run`` then raises ``DeviceRefused``;
    - the deployment worker (``visiona_client.deployments``), when given, in its own
      thread: each heartbeat's answer hands it visionA's list of the device's
      unfinished deployments, and the tunnel's ``POST /_visiona/deployments/sync``
      wakes it to ask for that list at once;
    - the run worker (``visiona_client.runs``), when given, likewise for runs: a
      heartbeat's ``runs_waiting`` or the tunnel's ``POST /_visiona/runs/sync`` wakes it.
    """

    def __init__(
        self,
        *,
        api: ServerApi,
        local_url: str,
        heartbeat_interval: float = 30.0,
        backoff: Backoff | None = None,
        wait: Callable[[float], bool] | None = None,
        local_check: Callable[[str], bool] | None = None,
        tunnel: bool = True,
        deployments: DeploymentWorker | None = None,
        runs: RunWorker | None = None,
    ) -> None:
        self.api = api
        self.local_url = local_url.rstrip("/")
        self.heartbeat_interval = heartbeat_interval
        self.backoff = backoff or Backoff()
        self._stopping = threading.Event()
        # Returns True when stopping; tests pass a fake clock.
        self._wait = wait or self._stopping.wait
        self._local_check = local_check or local_api_answers
        self.last_answer: dict[str, Any] = {}
        self._refused: DeviceRefused | None = None
        self.deployments = deployments
        self.runs = runs
        handlers = {SYNC_PATH: deployments.sync} if deployments else {}
        if runs is not None:
            handlers[RUNS_SYNC_PATH] = runs.sync
        control = ControlPaths(handlers)
        self.tunnel: TunnelClient | None = None
        token: str | None = getattr(api, "token", None)
        if tunnel and token:
            self.tunnel = TunnelClient(
                token=token,
                local_url=self.local_url,
                user_agent=AGENT_VERSION,
                tunnel_url=lambda: self.last_answer.get("tunnel_url"),
                stopping=self._stopping,
                control=control,
            )

    def stop(self) -> None:
        self._stopping.set()
        if self.tunnel is not None:
            self.tunnel.stop()
        if self.deployments is not None:
            self.deployments.stop(timeout=0)
        if self.runs is not None:
            self.runs.stop(timeout=0)

    def run(self) -> None:
        if self.deployments is not None:
            self.deployments.start()
        if self.runs is not None:
            self.runs.start()
        thread = None
        if self.tunnel is not None:
            thread = threading.Thread(target=self._tunnel_loop, name="tunnel", daemon=True)
            thread.start()
        try:
            self._heartbeat_loop()
        finally:
            self.stop()
            if thread is not None:
                thread.join(timeout=5)
            if self.deployments is not None:
                self.deployments.stop(timeout=5)
            if self.runs is not None:
                self.runs.stop(timeout=5)
        if self._refused is not None:
            raise self._refused

    def _tunnel_loop(self) -> None:
        assert self.tunnel is not None  # started only with a tunnel
        try:
            self.tunnel.run()
        except TunnelRefused as exc:
            self._refused = DeviceRefused(
                ServerError(str(exc), status=exc.status, code="device_token_invalid")
            )
            self.stop()
        except Exception:
            # A bug in the tunnel must not leave a half-working agent running silently.
            logger.exception("the tunnel stopped")
            self.stop()

    def _heartbeat_loop(self) -> None:
        while not self._stopping.is_set():
            delay = self._beat_once()
            if self._wait(delay):
                return

    def _beat_once(self) -> float:
        """Send one heartbeat; the seconds until the next one."""
        status = STATUS_READY if self._local_check(self.local_url) else STATUS_LOCAL_API_DOWN
        try:
            answer = self.api.heartbeat(status=status, agent_version=AGENT_VERSION)
        except ServerError as error:
            if not error.retryable:
                # 401/403/404: refused. Another 4xx is a request no retry can fix.
                raise DeviceRefused(error) if error.refused else error from None
            delay = self.backoff.next_delay()
            logger.warning("heartbeat failed: %s; trying again in %.1f s", error, delay)
            return delay
        if self.backoff.failures:
            logger.info("visionA answers again after %d failed heartbeats", self.backoff.failures)
        elif not self.last_answer:
            logger.info("connected to %s: device %s", self.api.server_url, answer.get("device_id"))
        self.backoff.reset()
        self.last_answer = answer
        if self.deployments is not None and "deployments" in answer:
            self.deployments.offer(answer["deployments"])
        if self.runs is not None:
            self.runs.offer_waiting(answer.get("runs_waiting"))
        if status != STATUS_READY:
            logger.warning("the local device API at %s does not answer", self.local_url)
        with contextlib.suppress(KeyError, TypeError, ValueError):
            self.heartbeat_interval = max(1.0, float(answer["heartbeat_interval_seconds"]))
        logger.debug("heartbeat: %s", answer.get("connection_status"))
        return self.heartbeat_interval


def local_api_answers(local_url: str) -> bool:
    try:
        response = requests.get(local_url + "/api/system/deps", timeout=LOCAL_CHECK_TIMEOUT_SECONDS)
    except requests.RequestException:
        return False
    return response.status_code < 500
