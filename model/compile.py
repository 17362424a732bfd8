"""
Compiles SDXL for Inferentia2 and packages the model.tar.gz that the endpoint loads.

    python model/compile.py --output /data/sdxl [--sizes 1024x1024,...] [--verify]

Runs on an inf2 or trn1 instance (or any x86 host with enough memory: about 92 GB per SDXL export)
inside the serving image or a virtualenv of model/requirements.txt: an artifact compiled by another
Neuron toolchain may not load in the serving image, so the versions are checked before anything
runs. One optimum-neuron export per size (Neuron models have static shapes), batch size 1, one
image per prompt. The archive's root holds code/ (the handler), imagegen-model.json (what was
compiled, with which toolchain) and one <W>x<H>/ directory per size. docs/deploy.md walks through it.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import sys
import tarfile
from importlib import metadata
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
HANDLER_DIR = HERE / "code"

DEFAULT_MODEL = "stabilityai/stable-diffusion-xl-base-1.0"
# The Hub commit of SDXL base 1.0 the artifacts are built from; a branch name would drift.
DEFAULT_REVISION = "462165984030d82259a11f4367a4eed129e94a7b"
SERVING_IMAGE = "huggingface-pytorch-inference-neuronx:2.1.2-transformers4.43.2-neuronx-py310-sdk2.20.0-ubuntu20.04"
# The contract's bounds on configurable sizes (shared/design/contract.md).
SIZE_MIN, SIZE_MAX, SIZE_MULTIPLE = 512, 1536, 64
MANIFEST = "imagegen-model.json"

Size = Tuple[int, int]
Exporter = Callable[[str, str, Size, Path, str, str], None]


class CompileError(Exception):
    """Stops the compile with a message that says what to fix."""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Compile SDXL for Inferentia2 and package model.tar.gz for the imagegen endpoint.")
    parser.add_argument("--output", required=True, type=Path, help="empty or new directory; receives model/ and model.tar.gz")
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[(1024, 1024)],
        help="comma-separated WIDTHxHEIGHT, the imagegen:supportedSizes of the stack (default 1024x1024); the first is the default size",
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"Hub id or local diffusers directory (default {DEFAULT_MODEL})")
    parser.add_argument("--revision", default=DEFAULT_REVISION, help="Hub commit of --model (default: the pinned SDXL base 1.0 commit)")
    parser.add_argument("--auto-cast", default="matmul", choices=["none", "matmul", "all"], help="operations cast from FP32 (default matmul)")
    parser.add_argument("--auto-cast-type", default="bf16", choices=["bf16", "fp16", "tf32"], help="type they are cast to (default bf16)")
    parser.add_argument("--dry-run", action="store_true", help="check the arguments and print the plan; compile nothing")
    parser.add_argument("--verify", action="store_true", help="after packaging, generate one image per size through the handler (needs NeuronCores)")
    return parser.parse_args(argv)


def parse_sizes(text: str) -> List[Size]:
    sizes: List[Size] = []
    for entry in text.split(","):
        match = re.fullmatch(r"\s*(\d+)x(\d+)\s*", entry)
        if not match:
            raise argparse.ArgumentTypeError(f"{entry.strip()!r} is not WIDTHxHEIGHT")
        size = (int(match.group(1)), int(match.group(2)))
        for side in size:
            if not SIZE_MIN <= side <= SIZE_MAX or side % SIZE_MULTIPLE:
                raise argparse.ArgumentTypeError(f"{entry.strip()}: each side must be a multiple of {SIZE_MULTIPLE} from {SIZE_MIN} to {SIZE_MAX}")
        if size in sizes:
            raise argparse.ArgumentTypeError(f"{entry.strip()} is listed twice")
        sizes.append(size)
    return sizes


def read_pins(path: Path = REQUIREMENTS) -> Dict[str, str]:
    """`name==version` lines of a requirements file; options and comments skipped."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, separator, version = line.partition("==")
        if not separator:
            raise CompileError(f"{path}: {line!r} is not pinned with ==")
        pins[name.strip()] = version.strip()
    return pins


def installed_versions(pins: Dict[str, str], installed_version: Callable[[str], str]) -> Tuple[Dict[str, str], List[str]]:
    """The versions found here, and one problem per pin they do not match."""
    found, problems = {}, []
    for name, pinned in sorted(pins.items()):
        try:
            version = installed_version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed (pinned {pinned})")
            continue
        found[name] = version
        # "2.15.128.0+56dc5a86" is a build of "2.15.128.0", as pip's == matches it.
        if version.split("+", 1)[0] != pinned:
            problems.append(f"{name} {version} is installed, {pinned} is pinned")
    return found, problems


def export_pipeline(model: str, revision: str, size: Size, directory: Path, auto_cast: str, auto_cast_type: str) -> None:
    """What `optimum-cli export neuron` does for SDXL, with the Hub revision pinned (the CLI has no --revision)."""
    from optimum.exporters.neuron.__main__ import infer_task, main_export, normalize_stable_diffusion_input_shapes

    width, height = size
    input_shapes = normalize_stable_diffusion_input_shapes({"batch_size": 1, "height": height, "width": width, "num_images_per_prompt": 1})
    cast = None if auto_cast == "none" else auto_cast
    main_export(
        model_name_or_path=model,
        output=directory,
        compiler_kwargs={"auto_cast": cast, "auto_cast_type": auto_cast_type if cast else None},
        task=infer_task("auto", model),
        revision=revision,
        library_name="diffusers",
        submodels={"unet": None},
        # The CLI's defaults: weights kept out of the NEFF, -O2, no validation run after compiling.
        inline_weights_to_neff=False,
        optlevel="2",
        do_validation=False,
        **input_shapes,
    )


def assemble(args: argparse.Namespace, export: Exporter, versions: Dict[str, str]) -> Path:
    """<output>/model/: one export per size, the handler in code/, the manifest."""
    tree = args.output / "model"
    for size in args.sizes:
        directory = tree / f"{size[0]}x{size[1]}"
        print(f"compiling {size[0]}x{size[1]} into {directory} ...", flush=True)
        export(args.model, args.revision, size, directory, args.auto_cast, args.auto_cast_type)
        if not (directory / "model_index.json").is_file():
            raise CompileError(f"the export of {size[0]}x{size[1]} left no model_index.json in {directory}")
    code = tree / "code"
    code.mkdir(parents=True)
    for source in sorted(HANDLER_DIR.glob("*.py")):
        shutil.copy2(source, code / source.name)
    manifest = {
        "model": args.model,
        "revision": args.revision,
        "sizes": [f"{w}x{h}" for w, h in args.sizes],
        "batch_size": 1,
        "num_images_per_prompt": 1,
        "auto_cast": args.auto_cast,
        "auto_cast_type": args.auto_cast_type,
        "serving_image": SERVING_IMAGE,
        "versions": versions,
    }
    (tree / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return tree


def package(tree: Path, archive: Path) -> str:
    """tar.gz with the tree's contents at its root (SageMaker extracts it into /opt/ml/model); returns its sha256."""

    def keep(info: tarfile.TarInfo) -> Optional[tarfile.TarInfo]:
        if "__pycache__" in info.name.split("/") or info.name.endswith(".pyc"):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    # NEFFs and bf16 weights barely compress: the fastest level saves minutes on gigabytes.
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for child in sorted(tree.iterdir()):
            tar.add(child, arcname=child.name, filter=keep)
    digest = hashlib.sha256()
    with archive.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(tree: Path, output: Path, load_model: Optional[Callable[[str], object]] = None) -> List[Path]:
    """Runs the packaged handler as the container would: one request per size, one PNG each."""
    sys.path.insert(0, str(tree / "code"))  # as the toolkit does with /opt/ml/model/code
    import inference

    model = (load_model or inference.model_fn)(str(tree))
    written = []
    for width, height in model.sizes:
        status = _Status()
        body = json.dumps({"inputs": "a lighthouse at dawn, watercolour", "parameters": {"width": width, "height": height, "seed": 42}})
        response = json.loads(inference.transform_fn(model, body, "application/json", "application/json", status))
        if status.code != 200:
            raise CompileError(f"the handler answered {status.code} for {width}x{height}: {response.get('message')}")
        path = output / f"verify-{width}x{height}.png"
        path.write_bytes(base64.b64decode(response["generated_images"][0]))
        written.append(path)
    return written


class _Status:
    """The one method of the model server's context that the handler calls."""

    def __init__(self) -> None:
        self.code = 200

    def set_response_status(self, code: int = 200, phrase: str = "", idx: int = 0) -> None:
        self.code = code


def main(
    argv: Optional[Sequence[str]] = None,
    export: Exporter = export_pipeline,
    installed_version: Callable[[str], str] = metadata.version,
    load_model: Optional[Callable[[str], object]] = None,
) -> int:
    args = parse_args(argv)
    pins = read_pins()
    sizes = ",".join(f"{w}x{h}" for w, h in args.sizes)
    plan = f"{args.model}@{args.revision}, sizes {sizes}, batch 1, auto-cast {args.auto_cast}/{args.auto_cast_type} -> {args.output}/model.tar.gz"
    if args.dry_run:
        print(f"would compile {plan}")
        print("with " + ", ".join(f"{name}=={version}" for name, version in sorted(pins.items())))
        return 0
    try:
        versions, problems = installed_versions(pins, installed_version)
        if problems:
            raise CompileError(
                f"this environment is not the serving image's toolchain ({SERVING_IMAGE}):\n  "
                + "\n  ".join(problems)
                + f"\nrun inside that image, or pip install -r {REQUIREMENTS}"
            )
        if args.output.exists() and any(args.output.iterdir()):
            raise CompileError(f"{args.output} is not empty; choose a new directory so that no old export ends up in the archive")
        args.output.mkdir(parents=True, exist_ok=True)
        print(f"compiling {plan}", flush=True)
        tree = assemble(args, export, versions)
        archive = args.output / "model.tar.gz"
        digest = package(tree, archive)
        print(f"wrote {archive} ({archive.stat().st_size} bytes, sha256 {digest})")
        if args.verify:
            for path in verify(tree, args.output, load_model):
                print(f"verified: {path}")
    except CompileError as error:
        print(f"compile.py: {error}", file=sys.stderr)
        return 1
    print(f"next: aws s3 cp {archive} s3://<artifacts-bucket>/sdxl/<version>/model.tar.gz  (docs/deploy.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
