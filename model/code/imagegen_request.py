"""
The request the imagegen pipeline sends to the endpoint, parsed and checked.

Body (application/json): {"inputs": prompt, "parameters": {negative_prompt, width, height,
num_inference_steps, guidance_scale, seed}}, as `modelInput` in tasks/shared/request.ts writes it.
The pipeline validates the request event first; the endpoint checks again because anyone with
sagemaker:InvokeEndpointAsync can call it directly. Bounds are the public contract's.

Standard library only: this module is imported by the serving image and by the tests on a bare
Python 3.10+.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple, Union

PROMPT_MAX_CHARS = 2000
STEPS_MAX = 100
GUIDANCE_SCALE_MAX = 30
SEED_MAX = 2**32 - 1
DEFAULT_STEPS = 30
DEFAULT_GUIDANCE_SCALE = 7.0
# The inline InvokeEndpointAsync body limit; a valid request is a few KB.
BODY_MAX_BYTES = 128_000

PARAMETERS = ("negative_prompt", "width", "height", "num_inference_steps", "guidance_scale", "seed")

Size = Tuple[int, int]


class ClientError(Exception):
    """The request is at fault: answered with a 4xx, which the pipeline does not retry."""

    status = 400
    phrase = "Bad Request"


class UnsupportedMediaType(ClientError):
    status = 415
    phrase = "Unsupported Media Type"


class NotAcceptable(ClientError):
    status = 406
    phrase = "Not Acceptable"


class PayloadTooLarge(ClientError):
    status = 413
    phrase = "Payload Too Large"


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    negative_prompt: Optional[str]
    width: int
    height: int
    num_inference_steps: int
    guidance_scale: float
    seed: int


def check_content_type(content_type: Optional[str]) -> None:
    if media_type(content_type) != "application/json":
        raise UnsupportedMediaType(
            f"content type {content_type!r} is not supported: send application/json "
            '({"inputs": prompt, "parameters": {...}})'
        )


def check_accept(accept: Optional[str]) -> None:
    """The response is JSON; an Accept header that rules JSON out gets a 406."""
    if not accept:
        return
    if any(media_type(entry) in ("application/json", "application/*", "*/*") for entry in accept.split(",")):
        return
    raise NotAcceptable(f"accept {accept!r} is not supported: the response is application/json")


def parse_request(body: Union[str, bytes, bytearray, None], sizes: Iterable[Size]) -> GenerationRequest:
    """`sizes` are the compiled (width, height) pairs; the first is the default."""
    document = _decode(body)
    if not isinstance(document, dict):
        raise ClientError('request body must be a JSON object {"inputs": prompt, "parameters": {...}}')
    unknown = sorted(set(document) - {"inputs", "parameters"})
    if unknown:
        raise ClientError(f"unknown field(s) {', '.join(unknown)}: the body has only inputs and parameters")

    inputs = document.get("inputs")
    if not isinstance(inputs, str) or not inputs.strip():
        raise ClientError("inputs must be a non-empty prompt string")
    prompt = inputs.strip()
    if len(prompt) > PROMPT_MAX_CHARS:
        raise ClientError(f"inputs must be at most {PROMPT_MAX_CHARS} characters after trimming, got {len(prompt)}")

    parameters = document.get("parameters")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise ClientError("parameters must be a JSON object")
    unknown = sorted(set(parameters) - set(PARAMETERS))
    if unknown:
        raise ClientError(f"unknown parameter(s) {', '.join(unknown)}: supported are {', '.join(PARAMETERS)}")

    negative = parameters.get("negative_prompt")
    if negative is not None and not isinstance(negative, str):
        raise ClientError(f"parameters.negative_prompt must be a string, got {_shown(negative)}")
    if negative is not None and len(negative) > PROMPT_MAX_CHARS:
        raise ClientError(f"parameters.negative_prompt must be at most {PROMPT_MAX_CHARS} characters, got {len(negative)}")

    width, height = _size(parameters, list(sizes))
    # Without a seed diffusers draws a random one; derive it instead, as the local stand-in model
    # does, so that the same body always gives the same image.
    seed = derived_seed(inputs) if parameters.get("seed") is None else _integer(parameters, "seed", 0, SEED_MAX, None)
    return GenerationRequest(
        prompt=prompt,
        negative_prompt=negative or None,
        width=width,
        height=height,
        num_inference_steps=_integer(parameters, "num_inference_steps", 1, STEPS_MAX, DEFAULT_STEPS),
        guidance_scale=_number(parameters, "guidance_scale", 0, GUIDANCE_SCALE_MAX, DEFAULT_GUIDANCE_SCALE),
        seed=seed,
    )


def derived_seed(inputs: str) -> int:
    """First 4 bytes (big-endian) of sha256 over the prompt as sent."""
    return int.from_bytes(hashlib.sha256(inputs.encode("utf-8")).digest()[:4], "big")


def media_type(value: Optional[str]) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _decode(body: Union[str, bytes, bytearray, None]) -> object:
    # The toolkit hands over str for exactly "application/json", bytes when a charset is given.
    if body is None:
        raise ClientError("request body is empty")
    raw = bytes(body) if isinstance(body, (bytes, bytearray)) else body.encode("utf-8")
    if len(raw) > BODY_MAX_BYTES:
        raise PayloadTooLarge(f"request body is {len(raw)} bytes; at most {BODY_MAX_BYTES} are accepted")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ClientError(f"request body is not UTF-8: {error}") from error
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        raise ClientError(f"request body is not valid JSON: {error}") from error


def _reject_constant(name: str) -> object:
    # Python's json accepts NaN and Infinity; JSON (and the pipeline) does not.
    raise ValueError(f"{name} is not a JSON value")


def _size(parameters: dict, sizes: list) -> Size:
    default_width, default_height = sizes[0]
    width = _integer(parameters, "width", 1, 1 << 16, default_width)
    height = _integer(parameters, "height", 1, 1 << 16, default_height)
    if (width, height) not in sizes:
        compiled = ", ".join(f"{w}x{h}" for w, h in sizes)
        raise ClientError(
            f"parameters.width x parameters.height {width}x{height} is not a size this model was compiled for "
            f"(compiled: {compiled}); Neuron models have static shapes, so compile and deploy an artifact for it"
        )
    return width, height


def _integer(parameters: dict, name: str, low: int, high: int, default: Optional[int]) -> int:
    value = parameters.get(name)
    if value is None and default is not None:
        return default
    # bool is an int in Python; true is not a step count.
    if type(value) is not int or not low <= value <= high:
        raise ClientError(f"parameters.{name} must be an integer from {low} to {high}, got {_shown(value)}")
    return value


def _number(parameters: dict, name: str, low: float, high: float, default: float) -> float:
    value = parameters.get(name)
    if value is None:
        return default
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        raise ClientError(f"parameters.{name} must be a number from {low} to {high}, got {_shown(value)}")
    return float(value)


def _shown(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
