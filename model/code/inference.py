"""
SDXL on Inferentia2 behind the Hugging Face inference toolkit: model.tar.gz holds this file as
code/inference.py next to the compiled pipelines (docs/deploy.md, "The model archive").

The toolkit imports this module from /opt/ml/model/code, calls `model_fn` once in every model
server worker (SAGEMAKER_MODEL_SERVER_WORKERS of them, each owning NEURON_RT_NUM_CORES=2 cores) and
`transform_fn` once per request. It answers any exception with a 400, which the pipeline would take
for a bad request and never retry, so `transform_fn` sets the status itself through the model
server's context: 4xx when the request is at fault, 500 when a valid request failed to generate.

torch and optimum-neuron exist only in the serving image: they are imported inside `model_fn`, and
everything else takes them as arguments, so the tests run on a bare Python.
"""
from __future__ import annotations

import base64
import io
import json
import logging
import re
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from imagegen_request import ClientError, GenerationRequest, Size, check_accept, check_content_type, parse_request

logger = logging.getLogger(__name__)

MANIFEST = "imagegen-model.json"
SIZE_DIRECTORY = re.compile(r"^([1-9][0-9]*)x([1-9][0-9]*)$")


class ModelLoadError(Exception):
    """The archive cannot be served; the worker fails to start and the endpoint logs say why."""


@dataclass(frozen=True)
class LoadedModel:
    pipelines: Dict[Size, Any]
    # The compiled sizes; the first is the default when a request names none.
    sizes: Tuple[Size, ...]
    make_generator: Callable[[int], Any]


def model_fn(model_dir: str, context: Any = None) -> LoadedModel:
    import torch
    from optimum.neuron import NeuronStableDiffusionXLPipeline

    def load_pipeline(path: str) -> Any:
        # "unet": the U-Net runs on both of the worker's cores, one half of classifier-free guidance each.
        return NeuronStableDiffusionXLPipeline.from_pretrained(path, data_parallel_mode="unet")

    return load(model_dir, load_pipeline, lambda seed: torch.Generator().manual_seed(seed))


def transform_fn(model: LoadedModel, input_data: Any, content_type: Optional[str], accept: Optional[str], context: Any) -> str:
    # Five parameters, the toolkit's own count, so that it passes the model server's context.
    try:
        check_accept(accept)
        check_content_type(content_type)
        request = parse_request(input_data, model.sizes)
    except ClientError as error:
        logger.info("rejected request: %s", error)
        return _failure(context, error.status, error.phrase, type(error).__name__, str(error), error)
    started = time.monotonic()
    try:
        png = generate(model, request)
    except Exception as error:  # the request was valid: a retry may succeed
        logger.exception("image generation failed")
        return _failure(context, 500, "Internal Server Error", "InferenceError", f"image generation failed: {error}", error)
    logger.info(
        "generated %dx%d, %d steps, seed %d, in %.1f s",
        request.width, request.height, request.num_inference_steps, request.seed, time.monotonic() - started,
    )
    return json.dumps({"generated_images": [base64.b64encode(png).decode("ascii")]})


def generate(model: LoadedModel, request: GenerationRequest) -> bytes:
    """One PNG. The pipeline takes no width or height: its compiled shape decides them."""
    pipeline = model.pipelines[(request.width, request.height)]
    output = pipeline(
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        num_inference_steps=request.num_inference_steps,
        guidance_scale=request.guidance_scale,
        num_images_per_prompt=1,
        generator=model.make_generator(request.seed),
        output_type="pil",
    )
    image = output.images[0]
    if tuple(image.size) != (request.width, request.height):
        raise RuntimeError(f"the pipeline made a {image.size[0]}x{image.size[1]} image for a {request.width}x{request.height} request")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def load(
    model_dir: str,
    load_pipeline: Callable[[str], Any],
    make_generator: Callable[[int], Any],
    installed_version: Callable[[str], str] = metadata.version,
) -> LoadedModel:
    root = Path(model_dir)
    manifest = read_manifest(root)
    for problem in toolchain_mismatches(manifest.get("versions", {}), installed_version):
        logger.warning("toolchain differs from the one the artifact was compiled with: %s", problem)

    pipelines: Dict[Size, Any] = {}
    for declared, directory in pipeline_directories(root):
        pipeline = load_pipeline(str(directory))
        size, batch = compiled_shape(pipeline)
        if declared is not None and declared != size:
            raise ModelLoadError(f"{directory.name}/ holds a pipeline compiled for {size[0]}x{size[1]}")
        if size in pipelines:
            raise ModelLoadError(f"two pipelines compiled for {size[0]}x{size[1]}")
        if batch != 1:
            raise ModelLoadError(
                f"{directory} was compiled with batch size {batch}; this handler makes one image per request: "
                "compile with batch_size 1 and num_images_per_prompt 1 (model/compile.py does)"
            )
        pipelines[size] = pipeline
        logger.info("loaded the %dx%d pipeline from %s", size[0], size[1], directory)
    return LoadedModel(pipelines=pipelines, sizes=_ordered(pipelines, manifest), make_generator=make_generator)


def pipeline_directories(root: Path) -> List[Tuple[Optional[Size], Path]]:
    """A pipeline at the root (a plain optimum-neuron export), or one per `<W>x<H>/` (compile.py)."""
    if (root / "model_index.json").is_file():
        return [(None, root)]
    found = []
    for child in sorted(root.iterdir()) if root.is_dir() else []:
        match = SIZE_DIRECTORY.match(child.name)
        if match and (child / "model_index.json").is_file():
            found.append(((int(match.group(1)), int(match.group(2))), child))
    if not found:
        raise ModelLoadError(
            f"no compiled pipeline in {root}: expected model_index.json at the root or in <W>x<H>/ directories (docs/deploy.md)"
        )
    return found


def compiled_shape(pipeline: Any) -> Tuple[Size, int]:
    """((width, height), batch) exactly as the Neuron pipeline derives them when it runs."""
    neuron = pipeline.unet.config.neuron
    factor = pipeline.vae_scale_factor
    return (neuron["static_width"] * factor, neuron["static_height"] * factor), neuron["static_batch_size"]


def read_manifest(root: Path) -> Dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ModelLoadError(f"{path} is not valid JSON: {error}") from error
    well_formed = (
        isinstance(manifest, dict) and isinstance(manifest.get("versions", {}), dict) and isinstance(manifest.get("sizes", []), list)
    )
    if not well_formed:
        raise ModelLoadError(f"{path} must hold a JSON object whose versions is an object and sizes a list (model/compile.py writes it)")
    return manifest


def toolchain_mismatches(recorded: Dict[str, str], installed_version: Callable[[str], str]) -> List[str]:
    problems = []
    for name, version in sorted(recorded.items()):
        try:
            here = installed_version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} {version} at compile time, not installed here")
            continue
        # "2.15.128.0+56dc5a86" is the build of "2.15.128.0": compare public versions only.
        if here.split("+", 1)[0] != version.split("+", 1)[0]:
            problems.append(f"{name} {version} at compile time, {here} here")
    return problems


def _ordered(pipelines: Dict[Size, Any], manifest: Dict[str, Any]) -> Tuple[Size, ...]:
    listed = []
    for entry in manifest.get("sizes", []):
        match = SIZE_DIRECTORY.match(str(entry))
        size = (int(match.group(1)), int(match.group(2))) if match else None
        if size in pipelines and size not in listed:
            listed.append(size)
    return tuple(listed + sorted(set(pipelines) - set(listed)))


def _failure(context: Any, status: int, phrase: str, kind: str, message: str, error: Exception) -> str:
    if context is None:
        # Called without the model server's context: only the toolkit's blanket 400 is left.
        raise error
    context.set_response_status(status, phrase)
    return json.dumps({"code": status, "type": kind, "message": message})
