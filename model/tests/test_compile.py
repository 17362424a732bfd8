"""model/compile.py: arguments, the toolchain check, and the archive it packages (a fake exporter stands in for optimum-neuron)."""
import contextlib
import io
import json
import shutil
import tarfile
import tempfile
import unittest
from importlib import metadata
from pathlib import Path

from fakes import load_fake_pipeline, make_generator, png_size, write_export
import compile as compiler
import inference


def installed_like_the_serving_image(name):
    pins = compiler.read_pins()
    if name not in pins:
        raise metadata.PackageNotFoundError(name)
    # Neuron wheels carry a local build label.
    return pins[name] + ("+56dc5a86" if name == "neuronx-cc" else "")


class FakeExporter:
    def __init__(self):
        self.calls = []

    def __call__(self, model, revision, size, directory, auto_cast, auto_cast_type):
        self.calls.append((model, revision, size, directory.name, auto_cast, auto_cast_type))
        write_export(directory, *size)


def run(argv, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = compiler.main(argv, **kwargs)
    return code, out.getvalue(), err.getvalue()


class Arguments(unittest.TestCase):
    def test_defaults_are_the_topologys_size_and_the_pinned_model(self):
        args = compiler.parse_args(["--output", "/tmp/x"])
        self.assertEqual(args.sizes, [(1024, 1024)])
        self.assertEqual((args.model, args.revision), ("stabilityai/stable-diffusion-xl-base-1.0", "462165984030d82259a11f4367a4eed129e94a7b"))
        self.assertEqual((args.auto_cast, args.auto_cast_type), ("matmul", "bf16"))

    def test_sizes_keep_their_order(self):
        self.assertEqual(compiler.parse_sizes("1216x832, 1024x1024"), [(1216, 832), (1024, 1024)])

    def test_bad_sizes_stop_with_the_rule(self):
        cases = {
            "1024": "is not WIDTHxHEIGHT",
            "1000x1024": "multiple of 64 from 512 to 1536",
            "448x448": "multiple of 64 from 512 to 1536",
            "1600x1024": "multiple of 64 from 512 to 1536",
            "1024x1024,1024x1024": "listed twice",
        }
        for text, message in cases.items():
            with self.subTest(text=text):
                err = io.StringIO()
                with contextlib.redirect_stderr(err), self.assertRaises(SystemExit) as exited:
                    compiler.parse_args(["--output", "/tmp/x", "--sizes", text])
                self.assertEqual(exited.exception.code, 2)
                self.assertIn(message, err.getvalue())

    def test_output_is_required(self):
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            compiler.parse_args([])


class Toolchain(unittest.TestCase):
    def test_pins_are_the_serving_images_versions(self):
        pins = compiler.read_pins()
        self.assertEqual(
            {k: pins[k] for k in ("optimum-neuron", "neuronx-cc", "torch-neuronx", "diffusers", "transformers", "huggingface-hub")},
            {
                "optimum-neuron": "0.0.25",
                "neuronx-cc": "2.15.128.0",
                "torch-neuronx": "2.1.2.2.3.0",
                "diffusers": "0.28.2",
                "transformers": "4.43.2",
                "huggingface-hub": "0.25.2",
            },
        )
        # The image tag names the same transformers and Neuron SDK.
        self.assertIn(f"transformers{pins['transformers']}", compiler.SERVING_IMAGE)
        self.assertIn("sdk2.20.0", compiler.SERVING_IMAGE)

    def test_every_pin_is_exact(self):
        with tempfile.TemporaryDirectory() as work:
            path = Path(work) / "requirements.txt"
            path.write_text("diffusers>=0.28\n", encoding="utf-8")
            with self.assertRaisesRegex(compiler.CompileError, "not pinned with =="):
                compiler.read_pins(path)

    def test_a_build_label_matches_its_version(self):
        found, problems = compiler.installed_versions({"neuronx-cc": "2.15.128.0"}, lambda name: "2.15.128.0+56dc5a86")
        self.assertEqual((found, problems), ({"neuronx-cc": "2.15.128.0+56dc5a86"}, []))

    def test_another_toolchain_stops_the_compile_before_anything_is_exported(self):
        exporter = FakeExporter()
        work = tempfile.TemporaryDirectory()
        self.addCleanup(work.cleanup)
        output = Path(work.name) / "out"

        def installed(name):
            if name == "optimum-neuron":
                return "0.0.28"
            if name == "diffusers":
                raise metadata.PackageNotFoundError(name)
            return installed_like_the_serving_image(name)

        code, _, err = run(["--output", str(output)], export=exporter, installed_version=installed)
        self.assertEqual(code, 1)
        self.assertIn("optimum-neuron 0.0.28 is installed, 0.0.25 is pinned", err)
        self.assertIn("diffusers is not installed (pinned 0.28.2)", err)
        self.assertEqual(exporter.calls, [])
        self.assertFalse(output.exists())


class Packaging(unittest.TestCase):
    def setUp(self):
        self.work = Path(tempfile.mkdtemp())
        self.output = self.work / "out"

    def tearDown(self):
        shutil.rmtree(self.work)

    def compile(self, *extra, **kwargs):
        exporter = FakeExporter()
        kwargs.setdefault("installed_version", installed_like_the_serving_image)
        code, out, err = run(["--output", str(self.output), *extra], export=exporter, **kwargs)
        self.assertEqual(code, 0, err)
        return exporter, out

    def test_one_export_per_size_with_the_pinned_model(self):
        exporter, _ = self.compile("--sizes", "1024x1024,1216x832")
        revision = compiler.DEFAULT_REVISION
        self.assertEqual(
            exporter.calls,
            [
                (compiler.DEFAULT_MODEL, revision, (1024, 1024), "1024x1024", "matmul", "bf16"),
                (compiler.DEFAULT_MODEL, revision, (1216, 832), "1216x832", "matmul", "bf16"),
            ],
        )

    def test_the_archive_holds_the_handler_the_manifest_and_each_size_at_its_root(self):
        _, out = self.compile("--sizes", "1024x1024,1216x832")
        archive = self.output / "model.tar.gz"
        with tarfile.open(archive) as tar:
            names = set(tar.getnames())
            manifest = json.load(tar.extractfile("imagegen-model.json"))
        self.assertTrue({"code/inference.py", "code/imagegen_request.py", "imagegen-model.json", "1024x1024/model_index.json", "1216x832/unet/model.neuron"} <= names)
        self.assertFalse([n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("model/", "./", "/"))])
        self.assertEqual(manifest["sizes"], ["1024x1024", "1216x832"])
        self.assertEqual((manifest["model"], manifest["revision"], manifest["batch_size"]), (compiler.DEFAULT_MODEL, compiler.DEFAULT_REVISION, 1))
        self.assertEqual(manifest["versions"]["optimum-neuron"], "0.0.25")
        self.assertEqual(manifest["versions"]["neuronx-cc"], "2.15.128.0+56dc5a86")
        self.assertIn("sha256", out)

    def test_the_packaged_archive_serves_requests_once_extracted(self):
        # SageMaker extracts model.tar.gz into /opt/ml/model and the toolkit loads code/inference.py from it.
        self.compile("--sizes", "1216x832,1024x1024")
        opt_ml_model = self.work / "opt-ml-model"
        with tarfile.open(self.output / "model.tar.gz") as tar:
            # Python 3.12+ warns without an extraction filter; older ones have none.
            tar.extractall(opt_ml_model, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        self.assertEqual((opt_ml_model / "code" / "inference.py").read_bytes(), Path(inference.__file__).read_bytes())
        model = inference.load(str(opt_ml_model), load_fake_pipeline, make_generator, installed_version=installed_like_the_serving_image)
        self.assertEqual(model.sizes, ((1216, 832), (1024, 1024)))

    def test_verify_generates_one_png_per_size_through_the_packaged_handler(self):
        _, out = self.compile("--sizes", "1024x1024,1216x832", "--verify", load_model=lambda path: inference.load(path, load_fake_pipeline, make_generator))
        self.assertEqual(png_size((self.output / "verify-1216x832.png").read_bytes()), (1216, 832))
        self.assertEqual(png_size((self.output / "verify-1024x1024.png").read_bytes()), (1024, 1024))
        self.assertIn("verified:", out)

    def test_a_non_empty_output_directory_is_refused(self):
        self.output.mkdir()
        (self.output / "old").write_text("x")
        code, _, err = run(["--output", str(self.output)], export=FakeExporter(), installed_version=installed_like_the_serving_image)
        self.assertEqual(code, 1)
        self.assertIn("is not empty", err)

    def test_an_export_that_leaves_no_pipeline_stops_the_compile(self):
        code, _, err = run(["--output", str(self.output)], export=lambda *args: None, installed_version=installed_like_the_serving_image)
        self.assertEqual(code, 1)
        self.assertIn("left no model_index.json", err)
        self.assertFalse((self.output / "model.tar.gz").exists())

    def test_dry_run_exports_nothing(self):
        exporter = FakeExporter()
        code, out, _ = run(["--output", str(self.output), "--dry-run"], export=exporter, installed_version=lambda name: "0")
        self.assertEqual(code, 0)
        self.assertIn("would compile stabilityai/stable-diffusion-xl-base-1.0@462165984030", out)
        self.assertEqual(exporter.calls, [])
        self.assertFalse(self.output.exists())


if __name__ == "__main__":
    unittest.main()
