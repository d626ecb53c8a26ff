"""The run worker: the agent's thread that runs models on this device for visionA.

A run is one installed model x a set of inputs (docs/runs.md). Work arrives as
deployments' does: ``POST /_visiona/runs/sync`` through the tunnel (``sync``), or a
heartbeat saying runs are waiting (``offer_waiting``), wakes the worker, which asks
visionA for the device's unfinished runs (``GET /api/agent/runs``) and runs them one
at a time, oldest first. For each:

1. find the model in the models folder's manifest (the run's model id and sha256):
   missing -> ``failed`` ``model_not_installed``;
2. report ``running``;
3. each input not done yet, one at a time: stream it from visionA into the local
   device API's ``POST /api/models/<stem>/infer`` (the inference contract), and
   stream the answer (``.npz`` outputs, timings header) back to visionA; an input
   the local API refuses (wrong shape, not an image) is sent back as that input's
   error and the run goes on; a refusal of the model itself (not installed, not
   runnable, no runtime) fails the run;
4. report ``completed``.

Never more than one input is held, and that only as it streams through. A 409 on any
report or result (``run_cancelled``, ``run_finished``) ends the run's work at once.
Reports are retried with the backoff while visionA is unreachable; after a restart
the unfinished run is listed again and resumes at its first input not done.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Callable, TypeVar

import requests

from visiona_client.backoff import Backoff
from visiona_client.inference_contract import (
    MAX_INPUT_BYTES,
    MODEL_NOT_FOUND,
    MODEL_NOT_RUNNABLE,
    MODEL_SHA256_HEADER,
    NPZ_TYPE,
    RUNTIME_HEADER,
    RUNTIME_MISSING,
    TIMINGS_HEADER,
    InferOptions,
    infer_path,
)
from visiona_client.models_folder import ModelsFolder
from visiona_client.server_api import RunApi, ServerApi, ServerError

logger = logging.getLogger(__name__)

# The local API's answers that fail the whole run, not one input.
_FATAL_CODES = frozenset({MODEL_NOT_FOUND, MODEL_NOT_RUNNABLE, RUNTIME_MISSING})
_STOP_CODES = frozenset({"run_cancelled", "run_finished"})
LOCAL_TIMEOUT_SECONDS = (5.0, 300.0)
_CHUNK = 256 * 1024
_REPORT_TRIES = 8
_Result = TypeVar("_Result")


class _RunEnded(Exception):
    """visionA cancelled or finished the run, or the agent is stopping."""


class RunWorker:
    def __init__(
        self,
        *,
        api: ServerApi,
        models: ModelsFolder,
        local_url: str,
        backoff: Backoff | None = None,
    ) -> None:
        self.api = RunApi(api)
        self.models = models
        self.local_url = local_url.rstrip("/")
        self.backoff = backoff or Backoff()
        self._fetch = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.http = requests.Session()
        self.http.trust_env = False  # the local device API is never behind a proxy
        self.runs_done = 0  # tests and logs

    # From the agent's other threads ---------------------------------------------------

    def sync(self) -> None:
        """The tunnel's nudge: ask visionA for the runs now."""
        self._fetch.set()

    def offer_waiting(self, count: Any) -> None:
        """A heartbeat's ``runs_waiting``: ask for the list when some wait."""
        if isinstance(count, int) and count > 0:
            self._fetch.set()

    def start(self) -> RunWorker:
        self._fetch.set()  # a run left from before a restart resumes at once
        self._thread = threading.Thread(target=self._loop, name="runs", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._fetch.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # In the worker's thread -----------------------------------------------------------

    def _loop(self) -> None:
        while True:
            self._fetch.wait()
            if self._stopping.is_set():
                return
            self._fetch.clear()
            try:
                items = self.api.runs()
            except ServerError as error:
                logger.warning("cannot list this device's runs: %s", error)
                continue
            for item in items:
                if self._stopping.is_set():
                    return
                try:
                    self._run(item)
                except _RunEnded:
                    logger.info("run %s ended on visionA's side", item.get("id"))
                except Exception:
                    # A bug here must not stop the agent: the run stays unfinished on
                    # visionA and is tried again at the next list.
                    logger.exception("run %s stopped on an error", item.get("id"))

    def _run(self, item: dict[str, Any]) -> None:
        run_id = str(item["id"])
        model = item.get("model") or {}
        stem = self._installed_stem(model)
        if stem is None:
            self._report(
                run_id,
                "failed",
                "model_not_installed",
                f"{model.get('name')} (sha256 {str(model.get('sha256'))[:12]}…) is not "
                "installed on this device: deploy it first",
            )
            return
        if item.get("state") != "running":
            self._report(run_id, "running")
        options = InferOptions(**(item.get("options") or {}))
        for entry in item.get("inputs") or []:
            if entry.get("done"):
                continue
            if self._stopping.is_set():
                raise _RunEnded()
            fatal = self._one_input(run_id, stem, options, entry)
            if fatal is not None:
                self._report(run_id, "failed", *fatal)
                return
        self._report(run_id, "completed")
        self.runs_done += 1

    def _installed_stem(self, model: dict[str, Any]) -> str | None:
        for entry in self.models.entries():
            if str(entry.get("model_id")) == str(model.get("id")) and str(
                entry.get("sha256")
            ) == str(model.get("sha256")):
                return Path(str(entry.get("file"))).stem
        return None

    def _one_input(
        self, run_id: str, stem: str, options: InferOptions, entry: dict[str, Any]
    ) -> tuple[str, str] | None:
        """Run one input and send its result; a (code, message) that fails the run."""
        index = int(entry["index"])
        source = self._retrying(lambda: self.api.open_input(run_id, index))
        with source:
            size = int(source.headers.get("Content-Length") or entry.get("size_bytes") or 0)
            if size > MAX_INPUT_BYTES:
                self._input_error(run_id, index, "input_too_large", "over the limit")
                return None
            try:
                answer = self.http.post(
                    self.local_url + infer_path(stem),
                    params=options.query(),
                    data=_Sized(source.iter_content(_CHUNK), size),
                    headers={"Content-Type": str(entry.get("content_type") or "")},
                    stream=True,
                    timeout=LOCAL_TIMEOUT_SECONDS,
                )
            except requests.RequestException as exc:
                return "device_unreachable", f"the local device API did not answer: {exc}"
        with answer:
            if answer.status_code == 200:
                headers = {
                    "Content-Type": NPZ_TYPE,
                    TIMINGS_HEADER: answer.headers.get(TIMINGS_HEADER, ""),
                    RUNTIME_HEADER: answer.headers.get(RUNTIME_HEADER, ""),
                    MODEL_SHA256_HEADER: answer.headers.get(MODEL_SHA256_HEADER, ""),
                }
                length = answer.headers.get("Content-Length")
                chunks = answer.iter_content(_CHUNK)
                body: Any = _Sized(chunks, int(length)) if length and length.isdigit() else chunks
                self._send(run_id, index, body=body, headers=headers)
                return None
            code, message = _envelope(answer)
        if code in _FATAL_CODES:
            return code, message
        self._input_error(run_id, index, code, message)
        return None

    def _input_error(self, run_id: str, index: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message[:500]}}).encode()
        self._send(run_id, index, body=body, headers={"Content-Type": "application/json"})

    def _send(self, run_id: str, index: int, *, body: Any, headers: dict[str, str]) -> None:
        # Streamed bodies cannot be replayed: one try, the input is run again after a
        # restart when visionA did not take it.
        try:
            self.api.send_result(run_id, index, body=body, headers=headers)
        except ServerError as error:
            if error.code in _STOP_CODES:
                raise _RunEnded() from None
            raise

    def _report(self, run_id: str, state: str, code: str = "", message: str = "") -> None:
        self._retrying(
            lambda: self.api.report(run_id, state, error_code=code, error_message=message)
        )

    def _retrying(self, call: Callable[[], _Result]) -> _Result:
        for _ in range(_REPORT_TRIES):
            try:
                result = call()
            except ServerError as error:
                if error.code in _STOP_CODES:
                    raise _RunEnded() from None
                if not error.retryable:
                    raise
                delay = self.backoff.next_delay()
                logger.warning("run: %s; trying again in %.1f s", error, delay)
                if self._stopping.wait(delay):
                    raise _RunEnded() from None
                continue
            self.backoff.reset()
            return result
        raise ServerError("visionA did not take the run's report after several tries")


class _Sized:
    """An iterable body with a length: requests then sends Content-Length, not chunks."""

    def __init__(self, chunks: Iterable[bytes], length: int) -> None:
        self._chunks = chunks
        self._length = length

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)

    def __len__(self) -> int:
        return self._length


def _envelope(answer: requests.Response) -> tuple[str, str]:
    try:
        error = answer.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = str(error.get("code") or f"http_{answer.status_code}")
    message = str(error.get("message") or f"the local device API answered {answer.status_code}")
    return code, message
