"""``visiona convert MODEL.onnx --chip 720``: pre-flight, upload, follow, download, save.

The pre-flight is ``visiona_client.preflight`` (scan_file + check); a blocker stops
before anything is sent. Ctrl-C during the upload asks the server what exists and
says so; during --wait the job goes on and the command to follow it is printed.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from visiona_client.preflight.rules import Report
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError
from visiona_client.visiona_cli.follow import finish_job, wait_for_job
from visiona_client.visiona_cli.output import Output
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.upload import upload_conversion

CHIPS = ("520", "720", "530", "630", "730")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
MAX_IMAGES = 200
_VERSION = re.compile(r"^[0-9A-Fa-f]{4}$")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "convert",
        parents=[common],
        help="convert an ONNX model to a NEF",
        description="Check the model, upload it with its reference images, and (with "
        "--wait, --download or --save) follow the job until it ends.",
    )
    parser.add_argument("model", type=Path, help="the .onnx model")
    parser.add_argument("--chip", required=True, type=chip_code, help="520, 720, 530, 630, 730")
    parser.add_argument(
        "--images",
        nargs="+",
        type=Path,
        default=[],
        metavar="DIR_OR_FILE",
        help="reference images (JPEG/PNG), or folders of them",
    )
    parser.add_argument("--model-id", type=int, help="the NEF's model id (32769-65535)")
    parser.add_argument("--version", dest="model_version", type=version_text, help="4 hex digits")
    parser.add_argument("--wait", action="store_true", help="follow the job until it ends")
    parser.add_argument("--download", type=Path, metavar="PATH", help="save the NEF here")
    parser.add_argument("--save", metavar="NAME", help="save the NEF to My models as NAME")
    parser.add_argument("--no-check", action="store_true", help="skip the local pre-flight")
    parser.set_defaults(func=run, checker=None)


def chip_code(raw: str) -> str:
    code = raw.upper().removeprefix("KL")
    if code not in CHIPS:
        raise ValueError(raw)
    return code


chip_code.__name__ = "chip"


def version_text(raw: str) -> str:
    if not _VERSION.match(raw):
        raise ValueError(raw)
    return raw.lower()


version_text.__name__ = "version"


def collect_images(sources: list[Path]) -> list[Path]:
    images: list[Path] = []
    for source in sources:
        if source.is_dir():
            images += sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif source.is_file():
            images.append(source)
        else:
            raise CliError(f"No such file or folder: {source}", exit_code=exit_codes.BAD_INPUT)
    if len(images) > MAX_IMAGES:
        raise CliError(
            f"{len(images)} images: at most {MAX_IMAGES}.", exit_code=exit_codes.BAD_INPUT
        )
    return images


def preflight(model: Path, chip: str) -> Report:
    """The interface's pre-flight: scan the file (in blocks), check it for the chip."""
    try:
        from visiona_client import preflight as scanner
    except ImportError:
        raise CliError(
            "The pre-flight check is not installed with this client; use --no-check.",
            exit_code=exit_codes.BAD_INPUT,
            code="preflight_unavailable",
        ) from None
    return scanner.check(scanner.scan_file(model), chip)


def _format_report(report: Report) -> str:
    try:
        from visiona_client.preflight import format_report
    except ImportError:  # an injected checker in a build without the scanner
        return "\n".join(f"- {f.code}: {f.message}" for f in [*report.blockers, *report.warnings])
    return format_report(report)


def run(args: argparse.Namespace) -> int:
    out = args.output
    if not args.model.is_file():
        raise CliError(f"No such file: {args.model}", exit_code=exit_codes.BAD_INPUT)
    images = collect_images(args.images)
    report = None
    if not args.no_check:
        report = (args.checker or preflight)(args.model, args.chip)
        if not report.ok or report.warnings:
            out.note(_format_report(report))
        if not report.ok:
            out.result({"preflight": report.to_dict(), "job": None})
            return exit_codes.BAD_INPUT
    api = api_for(args)
    job = _upload(api, out, args, images)
    result_extra = {"preflight": report.to_dict() if report is not None else None}
    out.note(f"Uploaded. Job {job['job_id']} ({job['status']}).")
    if not (args.wait or args.download or args.save is not None):
        out.say(job["job_id"])
        out.note(f"Follow it with: visiona jobs {job['job_id']} --wait")
        out.result({"job": job, **result_extra})
        return exit_codes.OK
    job = wait_for_job(api, out, job)
    output = _WithExtra(out, result_extra)
    return finish_job(api, output, job, download=args.download, save=args.save)


def _upload(api: Api, out: Output, args: argparse.Namespace, images: list[Path]) -> dict[str, Any]:
    try:
        return upload_conversion(
            api,
            out,
            platform=args.chip,
            model=args.model,
            images=images,
            model_id=args.model_id,
            version=args.model_version,
        )
    except KeyboardInterrupt:
        out.note("Upload interrupted. " + _what_exists(api))
        raise


def _what_exists(api: Api) -> str:
    """After a cut upload: is there a job on the server after all (the last bytes may
    have gone through)? Said plainly either way."""
    try:
        active = api.get_json("/api/conversion/active", timeout=5).get("job")
    except (CliError, KeyboardInterrupt):
        return "Could not ask visionA whether a job started: check with `visiona jobs`."
    if active:
        return (
            f"visionA has job {active['job_id']} ({active['status']}) from it, which goes on: "
            f"follow it with `visiona jobs {active['job_id']} --wait`."
        )
    return "No conversion was started on visionA; nothing is left behind."


class _WithExtra(Output):
    """The output, with the pre-flight report added to the final JSON."""

    def __init__(self, output: Output, extra: dict[str, Any]) -> None:
        super().__init__(as_json=output.as_json, out=output.out, err=output.err)
        self._output, self._extra = output, extra

    def result(self, data: dict[str, Any]) -> None:
        self._output.result({**data, **self._extra})
