"""The handler the serving image runs (model/code/inference.py), with a fake Neuron pipeline."""
import base64
import inspect
import json
import subprocess
import sys
import tempfile
import unittest
from importlib import metadata
from pathlib import Path

from fakes import CODE_DIR, FakeContext, FakePipeline, load_fake_pipeline, make_generator, png_size, write_export
import inference
from inference import LoadedModel, ModelLoadError, load, transform_fn

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def model_with(*pipelines: FakePipeline) -> LoadedModel:
    by_size = {}
    for pipeline in pipelines:
        size, _ = inference.compiled_shape(pipeline)
        by_size[size] = pipeline
    return LoadedModel(pipelines=by_size, sizes=tuple(by_size), make_generator=make_generator)


def invoke(model, document, content_type="application/json", accept="application/json"):
    """What the toolkit's handle() does: the body as str for exactly application/json, then transform_fn."""
    context = FakeContext()
    raw = document if isinstance(document, (str, bytes)) else json.dumps(document)
    response = transform_fn(model, raw, content_type, accept, context)
    return context.status, json.loads(response)


class Generation(unittest.TestCase):
    def test_the_pipeline_requests_come_back_as_one_base64_png_of_the_compiled_size(self):
        pipeline = FakePipeline(1024, 1024)
        for entry in json.loads((FIXTURES / "pipeline-requests.json").read_text(encoding="utf-8")):
            with self.subTest(sample=entry["sample"]):
                status, response = invoke(model_with(pipeline), entry["body"])
                self.assertEqual(status, 200)
                self.assertEqual(list(response), ["generated_images"])
                self.assertEqual(len(response["generated_images"]), 1)
                self.assertEqual(png_size(base64.b64decode(response["generated_images"][0], validate=True)), (1024, 1024))

    def test_parameters_reach_the_pipeline_and_width_and_height_do_not(self):
        pipeline = FakePipeline(1024, 1024)
        status, _ = invoke(
            model_with(pipeline),
            {"inputs": "a fox", "parameters": {"negative_prompt": "blur", "width": 1024, "height": 1024, "num_inference_steps": 40, "guidance_scale": 6.5, "seed": 123456789}},
        )
        self.assertEqual(status, 200)
        call = pipeline.calls[0]
        self.assertEqual(
            {k: call[k] for k in ("prompt", "negative_prompt", "num_inference_steps", "guidance_scale", "num_images_per_prompt", "output_type")},
            {"prompt": "a fox", "negative_prompt": "blur", "num_inference_steps": 40, "guidance_scale": 6.5, "num_images_per_prompt": 1, "output_type": "pil"},
        )
        self.assertEqual(call["generator"].initial_seed(), 123456789)

    def test_defaults_reach_the_pipeline(self):
        pipeline = FakePipeline(1024, 1024)
        invoke(model_with(pipeline), {"inputs": "a fox"})
        call = pipeline.calls[0]
        self.assertEqual((call["num_inference_steps"], call["guidance_scale"], call["negative_prompt"]), (30, 7.0, None))
        self.assertIsNotNone(call["generator"])

    def test_the_same_seed_gives_the_same_image_and_another_seed_another(self):
        model = model_with(FakePipeline(1024, 1024))
        first = invoke(model, {"inputs": "a fox", "parameters": {"seed": 42}})[1]
        again = invoke(model, {"inputs": "a fox", "parameters": {"seed": 42}})[1]
        other = invoke(model, {"inputs": "a fox", "parameters": {"seed": 43}})[1]
        self.assertEqual(first, again)
        self.assertNotEqual(first, other)

    def test_without_a_seed_the_same_body_still_gives_the_same_image(self):
        model = model_with(FakePipeline(1024, 1024))
        self.assertEqual(invoke(model, {"inputs": "a fox"}), invoke(model, {"inputs": "a fox"}))

    def test_each_compiled_size_is_served_by_its_own_pipeline(self):
        square, wide = FakePipeline(1024, 1024), FakePipeline(1216, 832)
        model = model_with(square, wide)
        status, response = invoke(model, {"inputs": "a fox", "parameters": {"width": 1216, "height": 832}})
        self.assertEqual(status, 200)
        self.assertEqual(png_size(base64.b64decode(response["generated_images"][0])), (1216, 832))
        self.assertEqual((len(square.calls), len(wide.calls)), (0, 1))

    def test_a_body_with_a_charset_arrives_as_bytes_and_works(self):
        status, _ = invoke(model_with(FakePipeline()), json.dumps({"inputs": "a fox"}).encode(), content_type="application/json; charset=utf-8")
        self.assertEqual(status, 200)


class Errors(unittest.TestCase):
    def test_input_errors_are_client_errors_and_never_reach_the_pipeline(self):
        cases = [
            ({"parameters": {}}, "application/json", "application/json", 400, "inputs must be a non-empty prompt string"),
            ({"inputs": "x", "parameters": {"width": 768, "height": 768}}, "application/json", "application/json", 400, "768x768 is not a size this model was compiled for"),
            ({"inputs": "x", "parameters": {"num_inference_steps": "30"}}, "application/json", "application/json", 400, "parameters.num_inference_steps"),
            ({"inputs": "x"}, "text/plain", "application/json", 415, "content type 'text/plain' is not supported"),
            ({"inputs": "x"}, "application/json", "image/png", 406, "accept 'image/png' is not supported"),
        ]
        for document, content_type, accept, expected, message in cases:
            with self.subTest(expected=expected, message=message):
                pipeline = FakePipeline()
                status, response = invoke(model_with(pipeline), document, content_type, accept)
                self.assertEqual(status, expected)
                self.assertEqual(response["code"], expected)
                self.assertIn(message, response["message"])
                self.assertEqual(pipeline.calls, [])

    def test_a_failing_pipeline_is_a_server_error_the_pipeline_may_retry(self):
        pipeline = FakePipeline(fail_with=RuntimeError("nrt_execute status=4"))
        with self.assertLogs("inference", "ERROR"):
            status, response = invoke(model_with(pipeline), {"inputs": "a fox"})
        self.assertEqual(status, 500)
        self.assertEqual(response, {"code": 500, "type": "InferenceError", "message": "image generation failed: nrt_execute status=4"})

    def test_an_image_of_the_wrong_size_is_a_server_error(self):
        with self.assertLogs("inference", "ERROR"):
            status, response = invoke(model_with(FakePipeline(1024, 1024, image_size=(512, 512))), {"inputs": "a fox"})
        self.assertEqual(status, 500)
        self.assertIn("512x512 image for a 1024x1024 request", response["message"])

    def test_without_the_model_server_context_errors_are_raised_for_the_toolkit(self):
        from imagegen_request import ClientError

        with self.assertRaises(ClientError):
            transform_fn(model_with(FakePipeline()), "{}", "application/json", "application/json", None)


class Loading(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp())

    def tearDown(self):
        import shutil

        shutil.rmtree(self.root)

    def load(self, **kwargs):
        return load(str(self.root), load_fake_pipeline, make_generator, **kwargs)

    def test_one_pipeline_per_size_directory_in_manifest_order(self):
        write_export(self.root / "1024x1024", 1024, 1024)
        write_export(self.root / "1216x832", 1216, 832)
        (self.root / "imagegen-model.json").write_text(json.dumps({"sizes": ["1216x832", "1024x1024"]}), encoding="utf-8")
        model = self.load()
        self.assertEqual(model.sizes, ((1216, 832), (1024, 1024)))
        status, response = invoke(model, {"inputs": "a fox"})
        self.assertEqual(png_size(base64.b64decode(response["generated_images"][0])), (1216, 832))

    def test_a_plain_export_at_the_root_loads_with_its_compiled_size(self):
        write_export(self.root, 1024, 768)
        self.assertEqual(self.load().sizes, ((1024, 768),))

    def test_a_directory_named_for_another_size_than_it_holds_fails_to_load(self):
        write_export(self.root / "1024x1024", 768, 768)
        with self.assertRaisesRegex(ModelLoadError, "1024x1024/ holds a pipeline compiled for 768x768"):
            self.load()

    def test_a_batched_export_fails_to_load(self):
        write_export(self.root / "1024x1024", 1024, 1024)
        config = self.root / "1024x1024" / "unet" / "config.json"
        config.write_text(config.read_text().replace('"static_batch_size": 1', '"static_batch_size": 4'))
        with self.assertRaisesRegex(ModelLoadError, "batch size 4"):
            self.load()

    def test_an_archive_without_a_pipeline_fails_to_load(self):
        (self.root / "code").mkdir()
        with self.assertRaisesRegex(ModelLoadError, "no compiled pipeline"):
            self.load()

    def test_a_malformed_manifest_fails_to_load(self):
        write_export(self.root / "1024x1024", 1024, 1024)
        for text in ("[]", '{"versions": ["0.0.25"]}', '{"sizes": "1024x1024"}', "{"):
            with self.subTest(manifest=text):
                (self.root / "imagegen-model.json").write_text(text, encoding="utf-8")
                with self.assertRaisesRegex(ModelLoadError, "imagegen-model.json"):
                    self.load()

    def test_a_different_toolchain_is_logged(self):
        write_export(self.root / "1024x1024", 1024, 1024)
        versions = {"neuronx-cc": "2.15.128.0", "optimum-neuron": "0.0.25", "diffusers": "0.28.2"}
        (self.root / "imagegen-model.json").write_text(json.dumps({"versions": versions}), encoding="utf-8")
        here = {"neuronx-cc": "2.15.128.0+56dc5a86", "optimum-neuron": "0.0.24"}

        def installed(name):
            if name not in here:
                raise metadata.PackageNotFoundError(name)
            return here[name]

        with self.assertLogs("inference", "WARNING") as logs:
            self.load(installed_version=installed)
        warnings = "\n".join(logs.output)
        self.assertIn("optimum-neuron 0.0.25 at compile time, 0.0.24 here", warnings)
        self.assertIn("diffusers 0.28.2 at compile time, not installed here", warnings)
        self.assertNotIn("neuronx-cc", warnings)


class ToolkitContract(unittest.TestCase):
    """How sagemaker-huggingface-inference-toolkit 2.x finds and calls the handler."""

    def test_context_is_passed_because_the_handlers_take_the_toolkits_parameter_count(self):
        # handler_service.function_extra_arg: as many parameters as the default (without self) -> context passed.
        self.assertEqual(len(inspect.signature(inference.model_fn).parameters), 2)  # load(model_dir, context)
        self.assertEqual(len(inspect.signature(inference.transform_fn).parameters), 5)  # transform_fn(model, data, ct, accept, context)

    def test_transform_fn_is_not_mixed_with_input_predict_or_output_fn(self):
        # The toolkit refuses to start when transform_fn comes with any of them.
        for name in ("input_fn", "predict_fn", "output_fn"):
            self.assertFalse(hasattr(inference, name), name)

    def test_importing_the_handler_loads_neither_torch_nor_optimum(self):
        script = "import sys; sys.path.insert(0, %r); import inference; print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'optimum', 'diffusers', 'PIL')))" % str(CODE_DIR)
        result = subprocess.run([sys.executable, "-B", "-c", script], capture_output=True, text=True, check=True)
        self.assertEqual(result.stdout.strip(), "[]")


if __name__ == "__main__":
    unittest.main()
