"""``visiona convert MODEL.onnx --chip 720``: pre-flight, upload, follow, download, save.

The pre-flight is ``visiona_client.preflight`` (scan_file + check); a blocker stops
before anything is sent, as does a refusal visionA would give only after the upload
(before_upload.py: a scope the token lacks, a conversion already running). Ctrl-C
during the upload asks the server what exists and says so; during --wait the job goes
on and the commands to follow it and to stop it are printed.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from visiona_client.inference_contract import DEFAULT_REPEAT, JPEG_START, PNG_START
from visiona_client.preflight.rules import Report
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError, outcome_error
from visiona_client.visiona_cli.before_upload import check_conversion_upload
from visiona_client.visiona_cli.follow import (
    POLL_SECONDS,
    check_save_options,
    finish_job,
    wait_for_job,
)
from visiona_client.visiona_cli.options import Once
from visiona_client.visiona_cli.output import Output
from visiona_client.visiona_cli.run import add_run_options
from visiona_client.visiona_cli.run_on import check_run_on, convert_and_run
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.transfer import download_target
from visiona_client.visiona_cli.upload import upload_conversion
from visiona_client.visiona_cli.waiting import Waiting, add_timeout_option

CHIPS = ("520", "720", "530", "630", "730")
# What the converter accepts (the server's conversion/limits.py, which refuses more
# only after the bytes were sent; tests/client/test_cli_convert_limits.py keeps them equal).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
# How a JPEG and a PNG begin: a file named .png that is neither is refused too.
IMAGE_SIGNATURES = (JPEG_START, PNG_START)
MAX_IMAGES = 100
MIB = 1024 * 1024
MAX_IMAGE_BYTES = 10 * MIB
MAX_MODEL_BYTES = 500 * MIB
# User model ids start above the range Kneron reserves for its own models.
MIN_USER_MODEL_ID = 32768
MAX_MODEL_ID = 65535
DEFAULT_MODEL_ID = 32769
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
    parser.add_argument(
        "--model-id",
        type=model_id,
        help=f"the NEF's model id ({MIN_USER_MODEL_ID}-{MAX_MODEL_ID}, default {DEFAULT_MODEL_ID})",
    )
    parser.add_argument("--version", dest="model_version", type=version_text, help="4 hex digits")
    parser.add_argument("--wait", action="store_true", help="follow the job until it ends")
    add_timeout_option(parser)
    parser.add_argument(
        "--download", type=download_target, metavar="PATH", help="save the NEF here"
    )
    parser.add_argument("--save", metavar="NAME", help="save the NEF to My models as NAME")
    parser.add_argument("--no-check", action="store_true", help="skip the local pre-flight")
    parser.add_argument(
        "--keep-onnx", action="store_true", help="with --save: keep the ONNX beside the NEF"
    )
    parser.add_argument(
        "--run-on",
        action=Once,
        several="a run is on one device",
        metavar="DEVICE",
        help="then save (with the ONNX), deploy to this device and run it (visiona run)",
    )
    add_run_options(parser, device_required=False)
    parser.set_defaults(func=run, checker=None, poll_seconds=POLL_SECONDS)


def chip_code(raw: str) -> str:
    code = raw.upper().removeprefix("KL")
    if code not in CHIPS:
        raise ValueError(raw)
    return code


chip_code.__name__ = "chip"


def model_id(raw: str) -> int:
    value = int(raw)
    if not MIN_USER_MODEL_ID <= value <= MAX_MODEL_ID:
        raise ValueError(raw)
    return value


model_id.__name__ = f"model id ({MIN_USER_MODEL_ID}-{MAX_MODEL_ID})"


def version_text(raw: str) -> str:
    if not _VERSION.match(raw):
        raise ValueError(raw)
    return raw.lower()


version_text.__name__ = "version"


def collect_images(sources: list[Path]) -> list[Path]:
    """The reference images, checked as the converter would, before a byte is sent:
    their count, each one's type (by name) and size."""
    images: list[Path] = []
    for source in sources:
        if source.is_dir():
            images += sorted(
                p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        elif source.is_file():
            images.append(source)
        else:
            raise CliError(f"No such file or folder: {source}", exit_code=exit_codes.BAD_INPUT)
    if len(images) > MAX_IMAGES:
        raise CliError(
            f"{len(images)} images: at most {MAX_IMAGES}.", exit_code=exit_codes.BAD_INPUT
        )
    problems = [problem for image in images if (problem := _image_problem(image))]
    if problems:
        shown = problems[:5] + ([f"... and {len(problems) - 5} more"] if len(problems) > 5 else [])
        raise CliError(
            "These images cannot be sent:\n" + "\n".join(f"- {p}" for p in shown),
            exit_code=exit_codes.BAD_INPUT,
            code="image_not_accepted",
        )
    return images


def _image_problem(image: Path) -> str | None:
    if image.suffix.lower() not in IMAGE_SUFFIXES:
        return f"{image}: not a JPEG or PNG file (.jpg, .jpeg, .png)"
    size = image.stat().st_size
    if size == 0:
        return f"{image}: empty"
    if size > MAX_IMAGE_BYTES:
        return f"{image}: {size / MIB:.1f} MiB, more than {MAX_IMAGE_BYTES // MIB} MiB"
    try:
        with image.open("rb") as handle:
            start = handle.read(max(len(signature) for signature in IMAGE_SIGNATURES))
    except OSError as exc:
        return f"{image}: cannot be read ({exc.strerror or exc})"
    if not start.startswith(IMAGE_SIGNATURES):
        return f"{image}: named like an image, but it is no JPEG or PNG inside"
    return None


def check_model(model: Path) -> None:
    if not model.is_file():
        raise CliError(f"No such file: {model}", exit_code=exit_codes.BAD_INPUT)
    size = model.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise CliError(
            f"{model}: {size / MIB:.0f} MiB, more than the {MAX_MODEL_BYTES // MIB} MiB "
            "the converter takes.",
            exit_code=exit_codes.BAD_INPUT,
            code="model_too_large",
        )


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
    _refuse_options_that_would_be_ignored(args)
    check_model(args.model)
    images = collect_images(args.images)
    if args.run_on:
        run_inputs, expectations = check_run_on(args)
    report = None
    if not args.no_check:
        report = (args.checker or preflight)(args.model, args.chip)
        if not report.ok or report.warnings:
            out.note(_format_report(report))
        if not report.ok:
            out.result(
                {
                    "preflight": report.to_dict(),
                    "job": None,
                    "error": outcome_error(
                        "preflight_failed",
                        "The pre-flight check found what the converter would refuse; "
                        "nothing was sent (--no-check sends it anyway).",
                        exit_code=exit_codes.BAD_INPUT,
                    ),
                }
            )
            return exit_codes.BAD_INPUT
    api = api_for(args)
    # What visionA would refuse only after the whole upload, asked first (before_upload.py).
    follows = args.wait or args.download or args.save is not None or args.run_on
    scopes = ["convert", *(["read"] if follows else []), *(["deploy"] if args.run_on else [])]
    check_conversion_upload(api, scopes=scopes)
    job = _upload(api, out, args, images)
    result_extra = {"preflight": report.to_dict() if report is not None else None}
    out.note(f"Uploaded. Job {job['job_id']} ({job['status']}).")
    if not (args.wait or args.download or args.save is not None or args.run_on):
        out.say(job["job_id"])
        out.note(f"Follow it with: visiona jobs {job['job_id']} --wait")
        out.result({"job": job, **result_extra})
        return exit_codes.OK
    job = wait_for_job(api, Waiting.of(args), job)
    output = _WithExtra(out, result_extra)
    if args.run_on:
        return convert_and_run(api, output, args, job, run_inputs, expectations)
    return finish_job(
        api, output, job, download=args.download, save=args.save, keep_onnx=args.keep_onnx
    )


def _refuse_options_that_would_be_ignored(args: argparse.Namespace) -> None:
    """Said before the upload: an option that only means something beside another would
    otherwise do nothing, and a CI gate written with --expect but no --run-on would pass
    without running anything."""
    check_save_options(args.save, keep_onnx=args.keep_onnx, saved_anyway=bool(args.run_on))
    if args.run_on:
        return
    run_options = {
        "--inputs": args.inputs != [],
        "--expect": args.expect is not None,
        "--outputs": args.outputs is not None,
        "--repeat": args.repeat != DEFAULT_REPEAT,
        "--channel-order": args.channel_order != "rgb",
        "--scale": args.scale != "unit",
    }
    given = [flag for flag, is_given in run_options.items() if is_given]
    if given:
        raise CliError(
            f"{', '.join(given)} {'goes' if len(given) == 1 else 'go'} with --run-on DEVICE "
            "(the run after the conversion); without it nothing would be run.",
            exit_code=exit_codes.BAD_INPUT,
        )


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
            f"follow it with `visiona jobs {active['job_id']} --wait`, or stop it with "
            f"`visiona cancel job {active['job_id']}`."
        )
    return "No conversion was started on visionA; nothing is left behind."


class _WithExtra(Output):
    """The output, with the pre-flight report added to the final JSON."""

    def __init__(self, output: Output, extra: dict[str, Any]) -> None:
        super().__init__(as_json=output.as_json, out=output.out, err=output.err)
        self._output, self._extra = output, extra

    def result(self, data: dict[str, Any]) -> None:
        self._output.result({**data, **self._extra})
