"""A model with its original ONNX, installed on Alice's device: what a run needs."""

from __future__ import annotations

import io

import numpy as np
import onnxruntime

from deployments.choices import DeploymentState
from deployments.models import Deployment
from models_repo.choices import ModelSource
from models_repo.reference import model_reference_store
from models_repo.services import model_create_from_stream
from tests import onnx_models

IMAGES = onnx_models.png_images(4)


def installed_model(owner, device, *, reference: bool = True, name: str = "classifier"):
    built = onnx_models.classifier(seed=4)
    nef = onnx_models.stand_in_nef(built, IMAGES)
    model = model_create_from_stream(
        owner=owner,
        name=name,
        chips=["KL720"],
        source=ModelSource.UPLOADED,
        filename="classifier.nef",
        chunks=[nef],
    )
    if reference:
        model = model_reference_store(
            model=model, filename="classifier.onnx", chunks=[onnx_models.bytes_of(built)]
        )
    Deployment.objects.create(
        device=device,
        model=model,
        created_by=owner,
        state=DeploymentState.INSTALLED,
        sha256=model.sha256,
        size_bytes=model.size_bytes,
        finished_at=model.created_at,
    )
    return model, built, nef


def device_outputs(nef: bytes, image: bytes) -> bytes:
    """What the demo device answers for an image: the int8 model's outputs as .npz."""
    from visiona_client.inference_contract import InferOptions
    from visiona_client.sandbox_nef import carried_model
    from visiona_client.tensors import TensorSpec, image_to_tensor, outputs_to_npz

    session = onnxruntime.InferenceSession(carried_model(nef))
    tensor = image_to_tensor(
        image, TensorSpec.from_runtime(session.get_inputs()[0]), InferOptions()
    )
    return outputs_to_npz({"logits": session.run(None, {"x": tensor})[0]})


def float_outputs(built, image: bytes) -> np.ndarray:
    from visiona_client.inference_contract import InferOptions
    from visiona_client.tensors import TensorSpec, image_to_tensor

    session = onnxruntime.InferenceSession(onnx_models.bytes_of(built))
    tensor = image_to_tensor(
        image, TensorSpec.from_runtime(session.get_inputs()[0]), InferOptions()
    )
    return session.run(None, {"x": tensor})[0]


def npz(data: bytes) -> dict:
    with np.load(io.BytesIO(data)) as archive:
        return {name: archive[name] for name in archive.files}
