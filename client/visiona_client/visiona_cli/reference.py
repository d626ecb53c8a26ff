"""The float reference, computed here with onnxruntime (``visiona-client[validate]``):
the original ONNX model run on each local input, compared with the device's outputs.

Each input is read, preprocessed exactly as the device's contract says, run and
compared one at a time: only one input's tensors are ever held.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from visiona_client.visiona_cli import exit_codes
from visiona_client.visiona_cli.api import CliError


class LocalReference:
    def __init__(self, model: Path) -> None:
        try:
            import onnxruntime

            from visiona_client.run_figures import AgreementTotals
            from visiona_client.tensors import TensorSpec
        except ImportError:
            raise CliError(
                "--reference runs the original model here with onnxruntime: "
                "pip install 'visiona-client[validate]'",
                exit_code=exit_codes.BAD_INPUT,
                code="validate_extra_missing",
            ) from None
        if not model.is_file():
            raise CliError(f"No such file: {model}", exit_code=exit_codes.BAD_INPUT)
        self.model = model
        try:
            self.session = onnxruntime.InferenceSession(
                str(model), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime's own error types
            raise CliError(
                f"onnxruntime cannot load {model}: {str(exc).splitlines()[0][:300]}",
                exit_code=exit_codes.BAD_INPUT,
                code="reference_invalid",
            ) from None
        self.specs = [TensorSpec.from_runtime(node) for node in self.session.get_inputs()]
        self.names = [node.name for node in self.session.get_outputs()]
        self.totals = AgreementTotals()

    def compare(
        self, path: Path, content_type: str, options: Any, device_npz: bytes
    ) -> dict[str, Any]:
        """One input's agreement per output (also added to the run's totals)."""
        from visiona_client.inference_contract import ContractError
        from visiona_client.run_figures import compare
        from visiona_client.tensors import inputs_from_body, read_npz

        try:
            feed = inputs_from_body(path.read_bytes(), content_type, self.specs, options)
        except ContractError as exc:
            return {"error": exc.message}
        reference = dict(zip(self.names, self.session.run(self.names, feed)))
        device = read_npz(device_npz)
        figures: dict[str, Any] = {}
        for name, expected in reference.items():
            if name not in device:
                figures[name] = {"error": "the device gave no such output"}
                continue
            try:
                figures[name] = compare(expected, device[name])
            except ValueError as exc:
                figures[name] = {"error": str(exc)}
                continue
            self.totals.add(name, figures[name])
        return figures

    def summary(self) -> dict[str, Any] | None:
        return self.totals.summary()
