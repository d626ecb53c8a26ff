"""``visiona run MODEL --device DEVICE --inputs DIR``: run a model installed on a device
on a set of inputs, and read its on-device latency and its agreement with the original
model. With ``--expect "cosine>=0.99,top1>=0.98"`` it is a CI gate: exit 5 when an
expectation fails (docs/cli.md).

The agreement comes from ``--reference model.onnx`` (computed here, ``validate``
extra), else from visionA when the model keeps its source ONNX.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from requests_toolbelt.multipart.encoder import MultipartEncoder, MultipartEncoderMonitor

from visiona_client.inference_contract import (
    CHANNEL_ORDERS,
    DEFAULT_REPEAT,
    INPUT_HEAD_BYTES,
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
from visiona_client.visiona_cli.api import UPLOAD_TIMEOUT, Api, CliError
from visiona_client.visiona_cli.before_upload import require_scopes
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
        parser.add_argument("--device", required=True, help="the device's id or name")
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
    reference = local_reference(args.reference)
    api = api_for(args)
    require_scopes(api, ("read", "deploy"))  # before the inputs' upload (before_upload.py)
    model = model_by_id_or_name(api, args.model)
    device = device_by_id_or_name(api, args.device)
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
    finished = _wait(api, waiting, created, device)
    local = None
    if finished["state"] == "completed" and (reference is not None or args.outputs):
        local = _outputs(api, out, finished, inputs, options, reference, args.outputs)
    if local is None and finished["state"] == "completed" and reference is None:
        finished = _wait_for_server_agreement(api, waiting, finished)
    agreement = local if local is not None else finished.get("agreement")
    figures = gate_figures(agreement, finished.get("latency"))
    checks = [expectation.check(figures) for expectation in expectations]
    report(out, finished, agreement, checks, reference_source=_source(reference, finished))
    out.result(
        {"run": finished, "agreement": agreement, "figures": figures, "expectations": checks}
    )
    if finished["state"] != "completed":
        return exit_codes.FAILURE
    if any(not check["passed"] for check in checks):
        return exit_codes.EXPECTATION
    return exit_codes.OK


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


def _wait(
    api: Api, waiting: Waiting, run: dict[str, Any], device: dict[str, Any]
) -> dict[str, Any]:
    out = waiting.out
    again = f"{_see_it(api, run)}; stop it with: visiona cancel run {run['id']}"
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
    run: dict[str, Any],
    inputs: list[Path],
    options: InferOptions,
    reference: LocalReference | None,
    folder: Path | None,
) -> dict[str, Any] | None:
    """Each input's outputs from visionA, compared with the local reference and/or saved."""
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    for entry in api.get_json(f"/api/runs/{run['id']}/inputs")["inputs"]:
        if entry["state"] != "done":
            continue
        data = api.request("GET", entry["output_url"]).content
        if folder is not None:
            (folder / f"{entry['index']:03d}-{Path(entry['name']).stem}.npz").write_bytes(data)
        # Inputs are numbered in the order they were sent.
        path = inputs[entry["index"]] if 0 <= entry["index"] < len(inputs) else None
        if reference is not None and path is not None:
            reference.compare(path, type_for_filename(path.name) or "", options, data)
    if folder is not None:
        out.note(f"Saved the outputs to {folder}.")
    return reference.summary() if reference is not None else None
