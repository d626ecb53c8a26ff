"""The deployment worker: the agent's thread that puts models on this device.

Work comes from visionA's list of the device's unfinished deployments (oldest
first, at most 20), which the agent gets two ways:

- every heartbeat's answer carries it (``offer``): works without the tunnel;
- ``POST /_visiona/deployments/sync`` through the tunnel (``sync``) wakes the worker
  to ask for it at once (``GET /api/agent/deployments``): a nudge, never the truth.

One deployment at a time, in a thread of its own (``deployments``), so heartbeats and
the tunnel never wait for a download; the lists the nudge asks for are fetched in
another (``deployments-list``), so a cancel is seen while a download runs.

A deployment that disappears from a whole list (fewer than 20) while it runs was
cancelled (or finished) on visionA: its download stops and its partial file is
deleted; so are partial files of deployments no longer listed.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from visiona_client.deployment_job import Job, JobRunner, Stopped, WorkItem
from visiona_client.models_folder import ModelsFolder
from visiona_client.server_api import ServerApi, ServerError

logger = logging.getLogger(__name__)

LIST_LIMIT = 20  # visionA lists at most this many: a shorter list is the whole of it
_FINISHED_MEMORY = 1000


class DeploymentWorker:
    def __init__(self, *, api: ServerApi, runner: JobRunner) -> None:
        self.api = api
        self.runner = runner
        self.models: ModelsFolder = runner.models
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._fetch = threading.Event()
        self._stopping = threading.Event()
        self._queue: OrderedDict[str, WorkItem] = OrderedDict()
        self._finished: OrderedDict[str, None] = OrderedDict()  # ids this agent is done with
        self._current: Job | None = None
        self._threads: list[threading.Thread] = []
        self.fetches = 0  # lists asked for so far (tests and logs)

    # From the agent's other threads ------------------------------------------------

    def offer(self, raw_items: Any) -> None:
        """visionA's list (a heartbeat's ``deployments``): the work to do from now on."""
        if not isinstance(raw_items, list):
            return
        items = [item for item in map(WorkItem.parse, raw_items) if item is not None]
        whole = len(raw_items) < LIST_LIMIT
        with self._lock:
            self._queue = OrderedDict((item.id, item) for item in items)
            current = self._current
            if whole and current is not None and current.item.id not in self._queue:
                logger.info("deployment %s is no longer listed: stopping it", current.item.id)
                current.cancel()
        if whole:
            self._clean_partials({item.id for item in items})
        self._wake.set()

    def sync(self) -> None:
        """The tunnel's nudge: ask visionA for the list now."""
        self._fetch.set()

    def start(self) -> DeploymentWorker:
        self._fetch.set()  # work left from before a restart resumes at once
        for target, name in ((self.run, "deployments"), (self._list_loop, "deployments-list")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        self._fetch.set()
        with self._lock:
            if self._current is not None:
                self._current.interrupt.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)

    # In the worker's threads -------------------------------------------------------

    def run(self) -> None:
        while not self._stopping.is_set():
            item = self._next()
            if item is None:
                self._wake.wait()
                self._wake.clear()
                continue
            self._run(item)

    def _list_loop(self) -> None:
        while True:
            self._fetch.wait()
            if self._stopping.is_set():
                return
            self._fetch.clear()
            self._fetch_list()

    def _fetch_list(self) -> None:
        try:
            items = self.api.deployments()
        except ServerError as error:
            logger.warning("cannot list this device's deployments: %s", error)
            return
        self.fetches += 1
        self.offer(items)

    def _next(self) -> WorkItem | None:
        with self._lock:
            for deployment_id, item in self._queue.items():
                if deployment_id not in self._finished:
                    return item
        return None

    def _run(self, item: WorkItem) -> None:
        job = Job(item)
        with self._lock:
            self._current = job
            if self._stopping.is_set():
                job.interrupt.set()
        stopped = False
        try:
            self.runner.run(job)
        except Stopped:
            stopped = True
        except Exception:
            # A bug here must not stop the agent's heartbeats: the deployment stays
            # unfinished on visionA and is tried again after a restart.
            logger.exception("deployment %s stopped on an error", item.id)
        finally:
            with self._lock:
                self._current = None
        if stopped:
            if not self._stopping.is_set():
                # A refused token, say: wait for the next list rather than spin.
                self._wake.clear()
                if not self._stopping.is_set():
                    self._wake.wait()
            return
        with self._lock:
            self._finished[item.id] = None
            while len(self._finished) > _FINISHED_MEMORY:
                self._finished.popitem(last=False)
            self._queue.pop(item.id, None)

    def _clean_partials(self, listed: set[str]) -> None:
        with self._lock:
            current = self._current.item.id if self._current is not None else None
        for deployment_id in self.models.partial_ids() - listed - {current}:
            logger.info(
                "deleting the partial download of deployment %s (no longer listed)", deployment_id
            )
            self.models.discard_partial(deployment_id)
