"""``visiona convert MODEL.onnx … --run-on DEVICE``: the whole road in one command.
Convert, save to My models with the ONNX kept, deploy to the device and wait until it
is installed, then run it on the inputs (``--inputs``, else the reference images) and
compare it with the ONNX just converted (here when the ``validate`` extra is installed,
else on visionA). The exit code is the run's (``--expect`` included), or the first step's
that failed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visiona_client.run_figures import Expectation
from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import Api, CliError
from visiona_client.visiona_cli.deploy import FINAL as DEPLOYMENT_FINAL
from visiona_client.visiona_cli.deploy import (
    deployment_error,
    note_not_installed,
    wait_for_deployment,
)
from visiona_client.visiona_cli.follow import finish_job
from visiona_client.visiona_cli.output import Output
from visiona_client.visiona_cli.resolve import device_by_id_or_name
from visiona_client.visiona_cli.run import (
    check_outputs_folder,
    collect_inputs,
    expectations_of,
    local_reference,
    run_and_report,
)
from visiona_client.visiona_cli.session import api_for
from visiona_client.visiona_cli.waiting import Waiting

if TYPE_CHECKING:
    from visiona_client.visiona_cli.reference import LocalReference


class _Captured(Output):
    """An output whose final JSON is kept for the chain's own, not printed."""

    def __init__(self, output: Output) -> None:
        super().__init__(as_json=output.as_json, out=output.out, err=output.err)
        self.data: dict[str, Any] = {}

    def result(self, data: Any) -> None:
        self.data.update(data)


def check_run_on(args: argparse.Namespace) -> tuple[list[Path], list[Expectation]]:
    """Before anything is uploaded: the inputs, the expectations and the outputs folder
    must be good, and the device one of the user's, of the chip converted for. The
    device is asked of visionA (one small request), kept in ``args.run_on_device``:
    a wrong name learnt after the conversion and the save would waste both."""
    inputs, expectations = collect_inputs(args.inputs or args.images), expectations_of(args.expect)
    check_outputs_folder(args.outputs)
    device = device_by_id_or_name(api_for(args), args.run_on)
    chip = f"KL{args.chip}"
    if device.get("chip") and device["chip"] != chip:
        raise CliError(
            f"--chip {chip}, but {device['name']} has a {device['chip']}: the model would "
            "not run there. Nothing was uploaded.",
            exit_code=exit_codes.BAD_INPUT,
            code="chip_mismatch",
            details={
                "chips": [chip],
                "devices": [{"id": device["id"], "name": device["name"], "chip": device["chip"]}],
            },
        )
    args.run_on_device = device
    return inputs, expectations


def convert_and_run(
    api: Api,
    out: Output,
    args: argparse.Namespace,
    job: dict[str, Any],
    inputs: list[Path],
    expectations: list[Expectation],
) -> int:
    steps = _Captured(out)
    name = args.save or args.model.stem
    code = finish_job(api, steps, job, download=args.download, save=name, keep_onnx=True)
    if code != exit_codes.OK or "model" not in steps.data:
        out.result(steps.data)
        return code
    model = steps.data["model"]
    device = getattr(args, "run_on_device", None) or device_by_id_or_name(api, args.run_on)
    deployment = _deploy(api, Waiting.of(args), model, device)
    steps.data["deployment"] = deployment
    if deployment["state"] != "installed":
        note_not_installed(out, deployment)
        out.result({**steps.data, "error": deployment_error(deployment)})
        return exit_codes.FAILURE
    reference = _reference_here(out, args.model)
    final = _Captured(out)
    run_args = argparse.Namespace(**{**vars(args), "output": final})
    code = run_and_report(api, run_args, model, device, inputs, reference, expectations)
    out.result({**steps.data, **final.data})
    return code


def _reference_here(out: Output, model: Path) -> LocalReference | None:
    """The converted ONNX run here when the validate extra is installed. Without it (or
    with only part of it: onnxruntime but not numpy or Pillow), or when this machine's
    onnxruntime cannot load the model (an older runtime than the converter's, an opset
    it lacks), the saved model keeps its ONNX, so visionA computes the agreement
    instead: nothing to refuse this late, after the conversion and the deployment."""
    try:
        return local_reference(model)
    except CliError as error:
        if error.code == "validate_extra_missing":
            out.note("The validate extra is not installed here: visionA computes the agreement.")
        elif error.code == "reference_invalid":
            out.note(f"{error.message}; visionA computes the agreement.")
        else:
            raise
    return None


def _deploy(
    api: Api, waiting: Waiting, model: dict[str, Any], device: dict[str, Any]
) -> dict[str, Any]:
    out = waiting.out
    body = api.post_json(
        "/api/deployments", {"model_id": model["id"], "device_ids": [device["id"]]}
    )
    deployment: dict[str, Any] = body["results"][0]["deployment"]
    out.note(f"Deployment {deployment['id']} to {device['name']}: {deployment['state']}.")
    if deployment["state"] not in DEPLOYMENT_FINAL:
        deployment = wait_for_deployment(api, waiting, deployment, device)
    return deployment
