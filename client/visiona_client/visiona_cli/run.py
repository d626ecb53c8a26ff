"""``visiona run MODEL --device DEVICE --inputs DIR``: run a model installed on a device
on a set of inputs, and read its on-device latency and its agreement with the original
model. With ``--expect "cosine>=0.99,top1>=0.98"`` it is a CI gate: exit 5 when an
expectation fails; exit 1 when the run failed, or completed with inputs the device
refused (each one is named: its code and message) (docs/cli.md).

What can be known before the inputs are sent is checked first (exit 2, nothing sent):
the inputs, the options, the ``--outputs`` folder, and the model's chips against the
device's chip (visionA's own refusal, in its words). Whether the model is installed on
the device is left to visionA.

The agreement comes from ``--reference model.onnx`` (computed here, ``validate``
extra), else from visionA when the model keeps its source ONNX.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from requests_toolbelt.multipart.encoder import MultipartEncoder, MultipartEncoderMonitor

from visiona_client.inference_contract import (
    CHANNEL_ORDERS,
    DEFAULT_REPEAT,
    INPUT_HEAD_BYTES,
    INPUT_SUFFIXES,
    MAX_INPUT_BYTES,
    MAX_REPEAT,
    NPY_TYPE,
    NPZ_TYPE,
    SCALES,
    InferOptions,
    starts_as,
    type_for_filename,
)
from visiona_client.run_figures import Expectation, gate_figures, parse_expectations
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import UPLOAD_TIMEOUT, Api, CliError, outcome_error
from visiona_client.visiona_cli.before_upload import require_scopes
from visiona_client.visiona_cli.options import Once
from visiona_client.visiona_cli.output import Output, counted
from visiona_client.visiona_cli.resolve import device_by_id_or_name, model_by_id_or_name
from visiona_client.visiona_cli.run_report import report
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.waiting import Waiting, add_timeout_option

if TYPE_CHECKING:
    from visiona_client.visiona_cli.reference import LocalReference

MAX_INPUTS = 100
POLL_SECONDS = 1.0
FINAL = ("completed", "failed", "cancelled")
REFERENCE_WAIT_SECONDS = 300.0
# visionA's refusal of a run whose model is not built for the device's chip
# (deployments/errors.py, RunChipMismatch), in English as the CLI is.
CHIP_MISMATCH = "“{model}” is built for {chips}; {device} has a {chip}. Nothing was run."
_SUFFIXES = ", ".join(f".{suffix}" for suffix in INPUT_SUFFIXES)


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "run",
        parents=[common],
        help="run a model on a device: latency and agreement",
        description="Run a model installed on a device on your inputs (images, .npy, .npz); "
        "print its on-device latency and its agreement with the original ONNX.",
    )
    parser.add_argument("model", help="the model's id or name (visiona models ls)")
    add_run_options(parser, device_required=True)
    parser.set_defaults(func=run, poll_seconds=POLL_SECONDS)


def add_run_options(parser: argparse.ArgumentParser, *, device_required: bool) -> None:
    """The run's options; ``convert --run-on`` takes them too (without --device and
    --reference: the device is --run-on's, the reference the converted ONNX)."""
    if device_required:
        parser.add_argument(
            "--device",
            required=True,
            action=Once,
            several="a run is on one device; run the command once per device",
            help="the device's id or name",
        )
        parser.add_argument("--reference", type=Path, help="the original .onnx, run here")
        add_timeout_option(parser)
    parser.add_argument(
        "--inputs",
        nargs="+",
        type=Path,
        default=[],
        metavar="DIR_OR_FILE",
        help="images (PNG, JPEG, BMP), .npy or .npz files, or folders of them",
    )
    parser.add_argument("--expect", help='e.g. "cosine>=0.99,top1>=0.98,p50_ms<=20"')
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help=f"timed repetitions per input, 1 to {MAX_REPEAT} (default {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--channel-order",
        choices=CHANNEL_ORDERS,
        default="rgb",
        help="the order of an image's colour channels the model takes (default rgb)",
    )
    parser.add_argument(
        "--scale",
        choices=tuple(SCALES),
        default="unit",
        help="an image's pixels as the model takes them: "
        + "; ".join(f"{name}: {meaning}" for name, meaning in SCALES.items())
        + " (default unit)",
    )
    parser.add_argument("--outputs", type=Path, metavar="DIR", help="save each input's .npz here")


def collect_inputs(sources: list[Path]) -> list[Path]:
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            found += sorted(
                p for p in source.iterdir() if p.is_file() and type_for_filename(p.name)
            )
        elif source.is_file() and type_for_filename(source.name):
            found.append(source)
        else:
            raise CliError(
                f"{source}: not an image, .npy, .npz or a folder of them",
                exit_code=exit_codes.BAD_INPUT,
            )
    if not found and sources:  # only folders, none with an input in it
        folders = " and ".join(str(source) for source in sources)
        has = "has" if len(sources) == 1 else "have"
        suffixes = _SUFFIXES.rsplit(", ", 1)
        raise CliError(
            f"{folders} {has} no {' or '.join(suffixes)} files.", exit_code=exit_codes.BAD_INPUT
        )
    if not found:
        raise CliError("No inputs: give --inputs DIR.", exit_code=exit_codes.BAD_INPUT)
    if len(found) > MAX_INPUTS:
        raise CliError(
            f"{len(found)} inputs: at most {MAX_INPUTS}.", exit_code=exit_codes.BAD_INPUT
        )
    for path in found:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise CliError(f"{path}: over {MAX_INPUT_BYTES} bytes", exit_code=exit_codes.BAD_INPUT)
        media = type_for_filename(path.name) or ""
        with path.open("rb") as handle:
            if not starts_as(media, handle.read(INPUT_HEAD_BYTES)):
                raise CliError(
                    f"{path}: named like {_KIND[media]}, but it is none inside",
                    exit_code=exit_codes.BAD_INPUT,
                    code="input_not_accepted",
                )
    return found


def check_outputs_folder(folder: Path | None) -> None:
    """Before anything is sent: ``--outputs`` must be a folder, or one that can be made.
    Learnt after the run, the refusal would come once the device has done its work."""
    if folder is None:
        return
    existing = next(path for path in (folder, *folder.parents) if path.exists())
    if not existing.is_dir():
        where = "it is a file" if existing == folder else f"{existing} is a file"
        raise CliError(
            f"--outputs {folder}: {where}, not a folder. Nothing was sent.",
            exit_code=exit_codes.BAD_INPUT,
            code="outputs_not_a_folder",
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CliError(
            f"--outputs {folder}: {existing} cannot be written to. Nothing was sent.",
            exit_code=exit_codes.BAD_INPUT,
            code="outputs_not_writable",
        )


def require_chip(model: dict[str, Any], device: dict[str, Any]) -> None:
    """The model must be built for the device's chip, as visionA would refuse after the
    upload (chip_mismatch). Not known (an older server): visionA decides."""
    chips, chip = model.get("chips"), device.get("chip")
    if not isinstance(chips, list) or not chips or not chip or chip in chips:
        return
    raise CliError(
        CHIP_MISMATCH.format(
            model=model.get("name"), chips=", ".join(chips), device=device["name"], chip=chip
        ),
        exit_code=exit_codes.BAD_INPUT,
        code="chip_mismatch",
        status=400,
        details={
            "chips": chips,
            "devices": [{"id": device.get("id"), "name": device["name"], "chip": chip}],
        },
    )


_KIND = {
    "image/png": "an image",
    "image/jpeg": "an image",
    "image/bmp": "an image",
    NPY_TYPE: "a .npy tensor",
    NPZ_TYPE: "a .npz of tensors",
}


def run(args: argparse.Namespace) -> int:
    """The command: check what was given, then run (``run_and_report``)."""
    expectations = expectations_of(args.expect)
    if not 1 <= args.repeat <= MAX_REPEAT:
        raise CliError(f"--repeat: 1 to {MAX_REPEAT}", exit_code=exit_codes.BAD_INPUT)
    inputs = collect_inputs(args.inputs)
    check_outputs_folder(args.outputs)
    reference = local_reference(args.reference)
    api = api_for(args)
    require_scopes(api, ("read", "deploy"))  # before the inputs' upload (before_upload.py)
    model = model_by_id_or_name(api, args.model)
    device = device_by_id_or_name(api, args.device)
    require_chip(model, device)
    return run_and_report(api, args, model, device, inputs, reference, expectations)


def run_and_report(
    api: Api,
    args: argparse.Namespace,
    model: dict[str, Any],
    device: dict[str, Any],
    inputs: list[Path],
    reference: LocalReference | None,
    expectations: list[Expectation],
) -> int:
    out = args.output
    options = InferOptions(args.repeat, args.channel_order, args.scale)
    created = _upload(api, out, model, device, inputs, options)
    count = counted(len(inputs), "input")
    out.note(f"Run {created['id']}: {model['name']} on {device['name']}, {count}.")
    waiting = Waiting.of(args)
    finished = wait_for_run(api, waiting, created, device)
    return finish_run(
        api,
        out,
        waiting,
        finished,
        expectations,
        reference=reference,
        local=LocalSide(inputs, options, args.outputs),
    )


@dataclass(frozen=True)
class LocalSide:
    """What ``visiona run`` has here and ``runs show`` has not: the inputs it sent (the
    outputs' names, the local reference's inputs), their options, the outputs' folder."""

    inputs: list[Path]
    options: InferOptions
    outputs: Path | None


def finish_run(
    api: Api,
    out: Output,
    waiting: Waiting,
    finished: dict[str, Any],
    expectations: list[Expectation],
    *,
    reference: LocalReference | None = None,
    local: LocalSide | None = None,
) -> int:
    """A run that has ended: its inputs' failures, the agreement (local or visionA's),
    the expectations, the report and the exit code (also ``visiona runs show``). ``out``
    is the command's (``convert --run-on`` gathers the run's result into its own)."""
    completed = finished["state"] == "completed"
    # The run's own answer does not list its inputs: a completed run may have had some,
    # or all, refused by the device (a wrong shape), each with its reason.
    entries = _inputs(api, waiting, finished) if completed else []
    failed = [_failed_input(entry) for entry in entries if entry.get("state") == "failed"]
    ran = any(entry.get("state") == "done" for entry in entries)
    computed, save_error = None, None
    if ran and local is not None and (reference is not None or local.outputs):
        computed, save_error = _outputs(
            api, out, entries, local.inputs, local.options, reference, local.outputs
        )
    if ran and reference is None:
        finished = _wait_for_server_agreement(api, waiting, finished)
    agreement = computed if computed is not None else finished.get("agreement")
    # No input ran: no figure can be computed, and an expectation on one fails.
    figures = gate_figures(agreement, finished.get("latency"))
    checks = [expectation.check(figures) for expectation in expectations]
    report(
        out,
        finished,
        agreement,
        checks,
        reference_source=_source(reference, finished),
        failed_inputs=failed,
        none_ran=completed and not ran,
    )
    result = {
        "run": finished,
        "failed_inputs": failed,
        "agreement": agreement,
        "figures": figures,
        "expectations": checks,
    }
    if save_error is not None:
        # Said after the report, so the run's figures are not lost with it.
        out.note(f"Error: {save_error.message} ({save_error.code})")
    error = _run_error(finished, failed, save_error, checks)
    if error is not None:
        result["error"] = error
    out.result(result)
    return error["exit_code"] if error is not None else exit_codes.OK


def _run_error(
    run: dict[str, Any],
    failed: list[dict[str, Any]],
    save_error: CliError | None,
    checks: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """What decides the exit code, as the result's ``error`` (1 before 2 before 5)."""
    details: dict[str, Any] = {"run_id": run["id"], "state": run["state"]}
    if run["state"] != "completed":
        return outcome_error(f"run_{run['state']}", f"The run {run['state']}.", details=details)
    if failed:
        return outcome_error(
            "inputs_failed",
            f"The device refused {counted(len(failed), 'input')}.",
            details={**details, "failed_inputs": failed},
        )
    if save_error is not None:
        return save_error.to_dict()
    missed = [check for check in checks if not check["passed"]]
    if missed:
        return outcome_error(
            "expectation_failed",
            f"{counted(len(missed), 'expectation')} not met.",
            exit_code=exit_codes.EXPECTATION,
            details={**details, "expectations": missed},
        )
    return None


def _inputs(api: Api, waiting: Waiting, run: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's inputs as visionA has them (all of them: the list is not paged)."""
    path = f"/api/runs/{run['id']}/inputs"
    entries: list[dict[str, Any]] = waiting.get_json(api, path, follow_again=_see_it(api, run))[
        "inputs"
    ]
    return entries


def _failed_input(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": entry.get("index"),
        "name": entry.get("name"),
        "error_code": entry.get("error_code") or "",
        "error_message": entry.get("error_message") or "",
    }


def expectations_of(text: str | None) -> list[Expectation]:
    if not text:
        return []
    try:
        return parse_expectations(text)
    except ValueError as exc:
        raise CliError(f"--expect: {exc}", exit_code=exit_codes.BAD_INPUT) from None


def local_reference(path: Path | None) -> LocalReference | None:
    if path is None:
        return None
    from visiona_client.visiona_cli.reference import LocalReference

    return LocalReference(path)


def _source(reference: LocalReference | None, run: dict[str, Any]) -> str:
    if reference is not None:
        # --reference's file, or the ONNX convert --run-on just converted.
        return f"computed here from {reference.model.name}"
    return "visionA" if run.get("agreement") else "none"


def _upload(
    api: Api,
    out: Output,
    model: dict[str, Any],
    device: dict[str, Any],
    inputs: list[Path],
    options: InferOptions,
) -> dict[str, Any]:
    with contextlib.ExitStack() as files:
        fields: list[tuple[str, object]] = [
            ("model_id", str(model["id"])),
            ("device_id", str(device["id"])),
            *options.query().items(),
        ]
        for path in inputs:
            handle = files.enter_context(path.open("rb"))
            fields.append(("inputs", (path.name, handle, type_for_filename(path.name))))
        encoder = MultipartEncoder(fields=fields)
        progress = out.progress("Uploading inputs", encoder.len)
        monitor = MultipartEncoderMonitor(encoder, lambda m: progress.update(m.bytes_read))
        try:
            response = api.request(
                "POST",
                "/api/runs",
                data=monitor,
                headers={"Content-Type": monitor.content_type},
                timeout=UPLOAD_TIMEOUT,
            )
        finally:
            progress.finish()
    created: dict[str, Any] = api._json(response)
    return created


def _see_it(api: Api, run: dict[str, Any]) -> str:
    page = api.url(f"/runs/{run['id']}/")
    return f"See it on visionA: {page}"


def wait_for_run(
    api: Api, waiting: Waiting, run: dict[str, Any], device: dict[str, Any]
) -> dict[str, Any]:
    out = waiting.out
    page = api.url(f"/runs/{run['id']}/")
    again = (
        f"Follow it again with: visiona runs show {run['id']} --wait, or see it at {page}; "
        f"stop it with: visiona cancel run {run['id']}"
    )
    last = ""
    try:
        while True:
            line = f"{run['state']} · {run['inputs_done']}/{run['inputs_count']} inputs"
            if line != last:
                out.note(f"Run {run['id']}: {line}")
                last = line
            if run["state"] in FINAL:
                return run
            waiting.note_if_offline(api, device, waiting_for=run["state"] == "pending")
            waiting.pause(
                still=f"run {run['id']} is {run['state']}",
                follow_again=again,
                details={"run_id": run["id"], "state": run["state"]},
            )
            run = waiting.get_json(api, f"/api/runs/{run['id']}", follow_again=again)
    except KeyboardInterrupt:
        out.note(
            f"Stopped following. Run {run['id']} goes on on the device ({run['state']}); "
            f"to stop it: visiona cancel run {run['id']}"
        )
        raise


def _wait_for_server_agreement(api: Api, waiting: Waiting, run: dict[str, Any]) -> dict[str, Any]:
    """visionA computes the agreement in its background worker when the model keeps its
    source ONNX: wait for it (bounded)."""
    again = _see_it(api, run)
    deadline = time.monotonic() + REFERENCE_WAIT_SECONDS
    while (run.get("reference") or {}).get("state") in ("pending", "computing"):
        if time.monotonic() > deadline:
            waiting.out.note("visionA has not finished the agreement yet; shown without it.")
            break
        waiting.pause(
            still=f"visionA is computing run {run['id']}'s agreement",
            follow_again=again,
            details={
                "run_id": run["id"],
                "state": run["state"],
                "reference_state": run["reference"]["state"],
            },
        )
        run = waiting.get_json(api, f"/api/runs/{run['id']}", follow_again=again)
    return run


def _outputs(
    api: Api,
    out: Output,
    entries: list[dict[str, Any]],
    inputs: list[Path],
    options: InferOptions,
    reference: LocalReference | None,
    folder: Path | None,
) -> tuple[dict[str, Any] | None, CliError | None]:
    """Each input's outputs from visionA, compared with the local reference and/or saved;
    the agreement computed here, and why the outputs could not be saved (checked before
    the run, the folder may still fail: a full disk, a folder removed meanwhile). A save
    that fails stops the saving, not the comparison."""
    save_error: CliError | None = None
    if folder is not None:
        save_error = _saved(folder, partial(folder.mkdir, parents=True, exist_ok=True))
    for entry in entries:
        saving = folder is not None and save_error is None
        if entry["state"] != "done" or not (saving or reference is not None):
            continue
        data = api.request("GET", entry["output_url"]).content
        if folder is not None and save_error is None:
            target = folder / f"{entry['index']:03d}-{Path(entry['name']).stem}.npz"
            save_error = _saved(folder, partial(target.write_bytes, data))
        # Inputs are numbered in the order they were sent.
        path = inputs[entry["index"]] if 0 <= entry["index"] < len(inputs) else None
        if reference is not None and path is not None:
            reference.compare(path, type_for_filename(path.name) or "", options, data)
    if folder is not None and save_error is None:
        out.note(f"Saved the outputs to {folder}.")
    return (reference.summary() if reference is not None else None), save_error


def _saved(folder: Path, write: Callable[[], object]) -> CliError | None:
    """None once ``write()`` has written; else why not (main.py's ``os_error``)."""
    try:
        write()
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        return CliError(
            f"Could not save the outputs to {folder}: {error.strerror or error}{where}",
            exit_code=exit_codes.BAD_INPUT,
            code="os_error",
            details={"folder": str(folder)},
        )
    return None
