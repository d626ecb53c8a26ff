"""One deployment, start to end: report, download, verify, install, report.

States reported to visionA (``POST /api/agent/deployments/<id>/state``):
``downloading`` (with bytes done / total: at the start, then at most once a second
or every 5 % more), ``verifying``, then ``installed`` or ``failed`` with a code.
``downloading``, ``verifying`` and the final report are retried with ``Backoff``
until visionA takes them (a report is not lost because visionA was unreachable);
progress reports in between are one try each. A 409 ``deployment_cancelled`` (or
``deployment_finished``) on any report, or on the file itself, stops the work and
deletes the partial file.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from visiona_client import rollback
from visiona_client.backoff import Backoff
from visiona_client.downloads import (
    DownloadFailed,
    DownloadFinished,
    DownloadInterrupted,
    DownloadNotFound,
    DownloadRefused,
    Interrupt,
    Partial,
    download,
)
from visiona_client.models_folder import InstallError, ModelsFolder, VerifyError, verify
from visiona_client.server_api import DEPLOYMENT_ID, ServerApi, ServerError

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 1.0
PROGRESS_FRACTION = 0.05
PROGRESS_TIMEOUT_SECONDS = 5.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# visionA takes ``installed`` only after ``verifying``, that only after ``downloading``.
_ORDER = ("downloading", "verifying", "installed")


KINDS = ("install", "rollback")


@dataclass(frozen=True)
class WorkItem:
    id: str
    state: str
    model_id: Any
    name: str
    sha256: str
    size: int
    chips: tuple[str, ...]
    download_url: str
    # "rollback": bring back this model (visiona_client.rollback), take off ``remove``.
    kind: str = "install"
    remove: dict[str, Any] | None = None

    @classmethod
    def parse(cls, raw: Any) -> WorkItem | None:
        """A work item from visionA's list; None (and a warning) if it is not one."""
        try:
            model = raw["model"]
            item = cls(
                id=str(raw["id"]),
                state=str(raw.get("state") or "pending"),
                model_id=model["id"],
                name=str(model["name"]),
                sha256=str(model["sha256"]).lower(),
                size=int(model["size_bytes"]),
                chips=tuple(str(chip).upper() for chip in model.get("chips") or ()),
                download_url=str(raw["download_url"]),
                kind=str(raw.get("kind") or "install"),
                remove=_remove(raw.get("rollback")),
            )
        except (KeyError, TypeError, ValueError):
            logger.warning("ignoring a deployment visionA sent without its fields")
            return None
        if not DEPLOYMENT_ID.match(item.id) or not _SHA256.match(item.sha256) or item.size < 0:
            logger.warning("ignoring deployment %r: a malformed id, sha256 or size", item.id[:40])
            return None
        if item.kind not in KINDS:
            logger.warning("ignoring deployment %s of an unknown kind %r", item.id, item.kind[:20])
            return None
        return item


def _remove(rollback_part: Any) -> dict[str, Any] | None:
    """``rollback.remove`` of a work item: the model to take off, or None."""
    remove = rollback_part.get("remove") if isinstance(rollback_part, dict) else None
    if not isinstance(remove, dict):
        return None
    sha256 = str(remove["sha256"]).lower()
    if not _SHA256.match(sha256):
        raise ValueError("a malformed sha256 to remove")
    return {"model_id": remove["model_id"], "sha256": sha256}


class Stopped(Exception):
    """The agent stops (or visionA refuses its token): the partial file stays."""


class Dropped(Exception):
    """The deployment is over for this agent (cancelled, finished, gone): partial deleted."""


class Job:
    """The deployment being worked on; ``interrupt`` stops its download or its retries."""

    def __init__(self, item: WorkItem) -> None:
        self.item = item
        self.acked = item.state  # the last state visionA took
        self.interrupt = Interrupt()
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self.interrupt.set()

    def check(self) -> None:
        if self.cancelled:
            raise Dropped("cancelled")
        if self.interrupt.is_set():
            raise Stopped()


class JobRunner:
    def __init__(
        self,
        *,
        api: ServerApi,
        models: ModelsFolder,
        chip: str = "",
        give_up_after: float | None = None,
        backoff: Callable[[], Backoff] = Backoff,
        clock: Callable[[], float] = time.monotonic,
        refuse_installs: str = "",
    ) -> None:
        self.api = api
        self.models = models
        self.chip = chip.upper()
        # The demo's --demo-refuse-installs: every install fails with this message.
        self.refuse_installs = refuse_installs
        self.give_up_after = give_up_after
        self.backoff = backoff
        self.clock = clock

    def run(self, job: Job) -> None:
        """Raises Stopped (partial kept); anything else ends the deployment here."""
        item = job.item
        try:
            self._deploy(job)
        except Dropped as why:
            logger.info("deployment %s: %s; its partial download is deleted", item.id, why)
            self.models.discard_partial(item.id)
        except Stopped:
            logger.info("deployment %s: stopped; it resumes on the next start", item.id)
            raise

    def _deploy(self, job: Job) -> None:
        item = job.item
        if self.models.installed_by(item.id, item.sha256) is not None:
            # Installed before the agent stopped, but visionA never heard of it.
            self._done(job, rollback.IN_PLACE)
            return
        if item.chips and self.chip and self.chip not in item.chips:
            chips = ", ".join(item.chips)
            self._fail(
                job, "chip_mismatch", f"the model is for {chips}, this device is {self.chip}"
            )
            return
        if self.refuse_installs:
            self._fail(job, "install_failed", self.refuse_installs)
            return
        if item.kind == "rollback":
            try:
                restored = rollback.restore_locally(self.models, item)
            except (InstallError, OSError) as error:
                self._fail(job, "install_failed", str(error))
                return
            if restored is not None:
                self._done(job, restored)
                return
        partial = Partial(
            self.models.part_path(item.id),
            self.models.part_meta_path(item.id),
            sha256=item.sha256,
            size=item.size,
        )
        self.models.ensure()
        offset = partial.offset()
        if item.size - offset > self.models.free_bytes():
            self._fail(job, "too_large", f"{item.size} bytes do not fit in {self.models.root}")
            return
        self._report(job, "downloading", reliable=True, bytes_done=offset, bytes_total=item.size)
        if not self._download(job, partial, offset):
            return
        self._report(job, "verifying", reliable=True, bytes_done=item.size, bytes_total=item.size)
        try:
            verify(partial.part, sha256=item.sha256, size=item.size)
        except VerifyError as error:
            partial.discard()
            self._fail(job, error.code, error.message)
            return
        job.check()
        try:
            entry = self.models.install(
                partial.part,
                name=item.name,
                model_id=item.model_id,
                sha256=item.sha256,
                deployment_id=item.id,
            )
        except InstallError as error:
            partial.discard()
            self._fail(job, "install_failed", str(error))
            return
        partial.discard()
        logger.info("deployment %s: installed %s as %s", item.id, item.name, entry["file"])
        self._done(job, rollback.DOWNLOAD)

    def _done(self, job: Job, source: str) -> None:
        """The model is in place: a rollback takes the undone model off, then report."""
        restored_from = ""
        if job.item.kind == "rollback":
            try:
                rollback.take_off(self.models, job.item.remove)
            except OSError as error:
                self._fail(job, "install_failed", f"cannot take the model off: {error}")
                return
            restored_from = source
        self._installed(job, restored_from=restored_from)

    def _download(self, job: Job, partial: Partial, offset: int) -> bool:
        """True once the file is whole; False when the deployment failed (reported)."""
        item = job.item
        throttle = _Throttle(item.size, self.clock, offset)

        def progress(done: int) -> None:
            if throttle.due(done):
                self._report(job, "downloading", bytes_done=done, bytes_total=item.size)

        try:
            download(
                lambda headers: self.api.open_download(item.download_url, headers),
                partial,
                interrupt=job.interrupt,
                on_progress=progress,
                backoff=self.backoff(),
                **({"give_up_after": self.give_up_after} if self.give_up_after else {}),
                clock=self.clock,
            )
        except DownloadInterrupted:
            job.check()
            raise Stopped() from None
        except DownloadFinished as why:
            raise Dropped(f"visionA says {why}") from None
        except DownloadRefused:
            raise Stopped() from None
        except DownloadNotFound:
            partial.discard()
            self._fail(job, "download_failed", "visionA has no file for this deployment (404)")
            return False
        except DownloadFailed as error:
            partial.discard()
            self._fail(job, "install_failed" if error.disk else "download_failed", str(error))
            return False
        job.check()
        return True

    # Reports -------------------------------------------------------------------

    def _fail(self, job: Job, code: str, message: str) -> None:
        logger.warning("deployment %s failed: %s (%s)", job.item.id, message, code)
        self._report(job, "failed", reliable=True, error_code=code, error_message=message)

    def _installed(self, job: Job, *, restored_from: str = "") -> None:
        """``installed``, after whichever of the states before it visionA has not taken."""
        order = _ORDER.index(job.acked) + 1 if job.acked in _ORDER else 0
        size = job.item.size
        for step in _ORDER[order:]:
            extra = (
                {"restored_from": restored_from} if step == "installed" and restored_from else {}
            )
            self._report(job, step, reliable=True, bytes_done=size, bytes_total=size, **extra)

    def _report(self, job: Job, state: str, *, reliable: bool = False, **fields: Any) -> None:
        backoff = self.backoff()
        while True:
            try:
                self.api.deployment_report(
                    job.item.id,
                    state,
                    timeout=None if reliable else PROGRESS_TIMEOUT_SECONDS,
                    **fields,
                )
            except ServerError as error:
                if error.status == 409 and error.code in (
                    "deployment_cancelled",
                    "deployment_finished",
                ):
                    job.cancel()
                    raise Dropped(f"visionA says {error.code}") from None
                if error.status == 409 and not reliable:
                    return  # a progress report out of turn: the next one says it again
                if error.status in (401, 403):
                    raise Stopped() from None  # the heartbeat stops the agent
                if not error.retryable:
                    raise Dropped(f"visionA refused the {state} report: {error}") from None
                if not reliable:
                    return
                delay = backoff.next_delay()
                logger.warning(
                    "deployment %s: %s report: %s; again in %.1f s",
                    job.item.id,
                    state,
                    error,
                    delay,
                )
                if job.interrupt.wait(delay):
                    job.check()
                continue
            job.acked = state
            return


class _Throttle:
    """Due once a second, or when 5 % more of the file came since the last report."""

    def __init__(self, total: int, clock: Callable[[], float], start: int = 0) -> None:
        self.total = total
        self.clock = clock
        self.last_at = clock()
        self.last_done = start  # the ``downloading`` report at the start said this much

    def due(self, done: int) -> bool:
        now = self.clock()
        step = max(1, int(self.total * PROGRESS_FRACTION))
        if done >= self.total:
            return False  # ``verifying`` says it with all its bytes
        if now - self.last_at < PROGRESS_INTERVAL_SECONDS and done - self.last_done < step:
            return False
        self.last_at, self.last_done = now, done
        return True
