"""
Stand-ins for what the serving image provides, shaped like the real objects (optimum-neuron 0.0.25,
torch 2.1, Pillow, multi-model-server 1.1.11) so that the handler cannot lean on anything they lack.
"""
from __future__ import annotations

import hashlib
import struct
import sys
import zlib
from pathlib import Path

CODE_DIR = Path(__file__).resolve().parent.parent / "code"
MODEL_DIR = CODE_DIR.parent
for path in (str(CODE_DIR), str(MODEL_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

VAE_SCALE_FACTOR = 8


class FakeGenerator:
    """torch.Generator: manual_seed returns the generator, initial_seed reads the seed back."""

    def __init__(self) -> None:
        self._seed = 67280421310721  # torch's default seed

    def manual_seed(self, seed: int) -> "FakeGenerator":
        self._seed = seed
        return self

    def initial_seed(self) -> int:
        return self._seed


def make_generator(seed: int) -> FakeGenerator:
    return FakeGenerator().manual_seed(seed)


class FakeImage:
    """PIL.Image.Image: .size is (width, height), save(fp, format) writes the encoded image."""

    def __init__(self, width: int, height: int, rgb: bytes) -> None:
        self.size = (width, height)
        self._rgb = rgb

    def save(self, fp, format=None, **params) -> None:
        if format != "PNG":
            raise KeyError(format)
        fp.write(png_bytes(self.size[0], self.size[1], self._rgb))


class FakeOutput:
    def __init__(self, images) -> None:
        self.images = images


class FakeConfig:
    def __init__(self, neuron: dict) -> None:
        self.neuron = neuron


class FakeUnet:
    def __init__(self, neuron: dict) -> None:
        self.config = FakeConfig(neuron)


class FakePipeline:
    """
    NeuronStableDiffusionXLPipeline: its compiled shape lives in unet.config.neuron (latent size,
    so pixels / vae_scale_factor), and __call__ takes no width, height or **kwargs, so passing
    them fails here as it does there. The picture depends on prompt, negative prompt, steps,
    guidance and the generator's seed, like a diffusion model's.
    """

    def __init__(self, width: int = 1024, height: int = 1024, batch_size: int = 1, fail_with: Exception | None = None, image_size=None) -> None:
        self.unet = FakeUnet(
            {
                "compiler_type": "neuronx-cc",
                "compiler_version": "2.15.128.0+56dc5a86",
                "static_batch_size": batch_size,
                "static_sequence_length": 77,
                "static_num_channels": 4,
                "static_height": height // VAE_SCALE_FACTOR,
                "static_width": width // VAE_SCALE_FACTOR,
                "dynamic_batch_size": False,
                "auto_cast": "matmul",
                "auto_cast_type": "bf16",
            }
        )
        self.vae_scale_factor = VAE_SCALE_FACTOR
        self.calls: list = []
        self._fail_with = fail_with
        self._image_size = image_size

    def __call__(
        self,
        prompt=None,
        prompt_2=None,
        num_inference_steps: int = 50,
        denoising_end=None,
        guidance_scale: float = 5.0,
        negative_prompt=None,
        negative_prompt_2=None,
        num_images_per_prompt: int = 1,
        eta: float = 0.0,
        generator=None,
        latents=None,
        prompt_embeds=None,
        negative_prompt_embeds=None,
        pooled_prompt_embeds=None,
        negative_pooled_prompt_embeds=None,
        output_type: str = "pil",
        return_dict: bool = True,
        callback=None,
        callback_steps: int = 1,
        cross_attention_kwargs=None,
        guidance_rescale: float = 0.0,
        original_size=None,
        crops_coords_top_left=(0, 0),
        target_size=None,
        negative_original_size=None,
        negative_crops_coords_top_left=(0, 0),
        negative_target_size=None,
        clip_skip=None,
    ):
        self.calls.append(
            {
                "prompt": prompt,
                "negative_prompt": negative_prompt,
                "num_inference_steps": num_inference_steps,
                "guidance_scale": guidance_scale,
                "num_images_per_prompt": num_images_per_prompt,
                "generator": generator,
                "output_type": output_type,
            }
        )
        if self._fail_with is not None:
            raise self._fail_with
        # Without a generator the real pipeline draws fresh noise: so does this one.
        seed = generator.initial_seed() if generator is not None else int.from_bytes(hashlib.sha256(str(len(self.calls)).encode()).digest()[:8], "big")
        key = f"{prompt}|{negative_prompt}|{num_inference_steps}|{guidance_scale}|{seed}".encode()
        width = self.unet.config.neuron["static_width"] * self.vae_scale_factor
        height = self.unet.config.neuron["static_height"] * self.vae_scale_factor
        width, height = self._image_size or (width, height)
        return FakeOutput([FakeImage(width, height, hashlib.sha256(key).digest()[:3])])


class FakeContext:
    """multi-model-server's Context: per-request status through set_response_status(code, phrase, idx)."""

    def __init__(self) -> None:
        self.statuses: list = []

    def set_response_status(self, code: int = 200, phrase: str = "", idx: int = 0) -> None:
        self.statuses.append((code, phrase, idx))

    @property
    def status(self) -> int:
        return self.statuses[-1][0] if self.statuses else 200


def png_bytes(width: int, height: int, rgb: bytes) -> bytes:
    """A solid-colour 8-bit RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + rgb * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple:
    """(width, height) of a PNG; fails unless the bytes start like one."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def write_export(directory: Path, width: int, height: int) -> Path:
    """The files an optimum-neuron SDXL export leaves, with placeholder contents."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model_index.json").write_text('{"_class_name": "StableDiffusionXLPipeline"}', encoding="utf-8")
    for part in ("text_encoder", "text_encoder_2", "unet", "vae_decoder", "vae_encoder"):
        (directory / part).mkdir(exist_ok=True)
        (directory / part / "model.neuron").write_bytes(b"neff")
        (directory / part / "config.json").write_text("{}", encoding="utf-8")
    (directory / "unet" / "config.json").write_text(
        '{"neuron": {"static_height": %d, "static_width": %d, "static_batch_size": 1}}' % (height // 8, width // 8), encoding="utf-8"
    )
    return directory


def load_fake_pipeline(path: str) -> FakePipeline:
    """The loader model_fn would call, reading the compiled shape from the export's unet config."""
    import json

    neuron = json.loads((Path(path) / "unet" / "config.json").read_text(encoding="utf-8"))["neuron"]
    return FakePipeline(
        width=neuron["static_width"] * VAE_SCALE_FACTOR,
        height=neuron["static_height"] * VAE_SCALE_FACTOR,
        batch_size=neuron["static_batch_size"],
    )
