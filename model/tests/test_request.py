"""Parsing and checking of the diffusers request body (model/code/imagegen_request.py)."""
import json
import unittest
from pathlib import Path

import fakes  # noqa: F401  (puts model/code on the path)
from imagegen_request import (
    BODY_MAX_BYTES,
    ClientError,
    GenerationRequest,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
    check_accept,
    check_content_type,
    derived_seed,
    parse_request,
)

SIZES = [(1024, 1024)]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def body(parameters=None, inputs="a lighthouse at dawn", **extra) -> str:
    document = {"inputs": inputs, **extra}
    if parameters is not None:
        document["parameters"] = parameters
    return json.dumps(document)


class PipelineRequests(unittest.TestCase):
    def test_every_body_the_pipeline_sends_parses_to_its_values(self):
        # Written by the pipeline's own modelInput (test/model/python-unittest.test.ts keeps it current).
        for entry in json.loads((FIXTURES / "pipeline-requests.json").read_text(encoding="utf-8")):
            with self.subTest(sample=entry["sample"]):
                sent = json.loads(entry["body"])
                request = parse_request(entry["body"], SIZES)
                self.assertEqual(request.prompt, sent["inputs"])
                self.assertEqual(request.negative_prompt, sent["parameters"].get("negative_prompt"))
                self.assertEqual((request.width, request.height), (sent["parameters"]["width"], sent["parameters"]["height"]))
                self.assertEqual(request.num_inference_steps, sent["parameters"]["num_inference_steps"])
                self.assertEqual(request.guidance_scale, sent["parameters"]["guidance_scale"])
                self.assertEqual(request.seed, sent["parameters"]["seed"])


class Defaults(unittest.TestCase):
    def test_a_bare_prompt_gets_the_contract_defaults_and_the_first_compiled_size(self):
        request = parse_request(body(), [(768, 1024), (1024, 1024)])
        self.assertEqual(
            request,
            GenerationRequest(
                prompt="a lighthouse at dawn",
                negative_prompt=None,
                width=768,
                height=1024,
                num_inference_steps=30,
                guidance_scale=7.0,
                seed=derived_seed("a lighthouse at dawn"),
            ),
        )

    def test_explicit_nulls_mean_the_default(self):
        request = parse_request(body({"negative_prompt": None, "width": None, "seed": None, "guidance_scale": None}), SIZES)
        self.assertEqual((request.negative_prompt, request.width, request.guidance_scale), (None, 1024, 7.0))
        self.assertEqual(request.seed, derived_seed("a lighthouse at dawn"))

    def test_the_derived_seed_matches_the_local_stand_in_model(self):
        # local/model/stand-in-server.ts: sha256(inputs) read as a big-endian uint32; sha256("abc") = ba7816bf...
        self.assertEqual(derived_seed("abc"), 0xBA7816BF)
        # Over the prompt as sent, like the stand-in, not the trimmed one.
        request = parse_request(body(inputs=" abc "), SIZES)
        self.assertEqual((request.prompt, request.seed), ("abc", derived_seed(" abc ")))
        self.assertNotEqual(derived_seed(" abc "), derived_seed("abc"))

    def test_prompt_is_trimmed_and_an_empty_negative_prompt_is_none(self):
        request = parse_request(body({"negative_prompt": ""}, inputs="  a fox  "), SIZES)
        self.assertEqual((request.prompt, request.negative_prompt), ("a fox", None))

    def test_parameters_may_be_omitted_or_null(self):
        self.assertEqual(parse_request(json.dumps({"inputs": "x", "parameters": None}), SIZES).num_inference_steps, 30)

    def test_a_seed_of_zero_is_kept(self):
        self.assertEqual(parse_request(body({"seed": 0}), SIZES).seed, 0)

    def test_bounds_are_inclusive(self):
        request = parse_request(body({"num_inference_steps": 100, "guidance_scale": 30, "seed": 4294967295}), SIZES)
        self.assertEqual((request.num_inference_steps, request.guidance_scale, request.seed), (100, 30.0, 4294967295))
        request = parse_request(body({"num_inference_steps": 1, "guidance_scale": 0}), SIZES)
        self.assertEqual((request.num_inference_steps, request.guidance_scale), (1, 0.0))


class Rejections(unittest.TestCase):
    def assertRejected(self, raw, *words, error=ClientError, sizes=SIZES):
        with self.assertRaises(error) as caught:
            parse_request(raw, sizes)
        for word in words:
            self.assertIn(word, str(caught.exception))
        return caught.exception

    def test_missing_or_empty_prompt(self):
        self.assertRejected(json.dumps({"parameters": {}}), "inputs must be a non-empty prompt string")
        self.assertRejected(body(inputs="   "), "inputs must be a non-empty prompt string")
        self.assertRejected(body(inputs=["a", "b"]), "inputs must be a non-empty prompt string")

    def test_prompt_too_long(self):
        self.assertRejected(body(inputs="x" * 2001), "inputs", "at most 2000")
        self.assertRejected(body({"negative_prompt": "y" * 2001}), "parameters.negative_prompt", "at most 2000")

    def test_a_size_the_model_was_not_compiled_for_names_the_compiled_ones(self):
        error = self.assertRejected(body({"width": 768, "height": 768}), "768x768", "compiled: 1024x1024, 1216x832", sizes=[(1024, 1024), (1216, 832)])
        self.assertEqual(error.status, 400)
        self.assertRejected(body({"width": 832}), "832x1024", sizes=[(1024, 1024), (1216, 832)])

    def test_wrong_types_name_the_field_and_the_bound(self):
        cases = [
            ({"num_inference_steps": True}, "parameters.num_inference_steps must be an integer from 1 to 100, got true"),
            ({"num_inference_steps": 30.5}, "parameters.num_inference_steps must be an integer from 1 to 100, got 30.5"),
            ({"num_inference_steps": 0}, "parameters.num_inference_steps must be an integer from 1 to 100, got 0"),
            ({"num_inference_steps": 101}, "got 101"),
            ({"width": "1024"}, 'parameters.width must be an integer from 1 to 65536, got "1024"'),
            ({"seed": -1}, "parameters.seed must be an integer from 0 to 4294967295, got -1"),
            ({"seed": 4294967296}, "got 4294967296"),
            ({"seed": 1.0}, "parameters.seed must be an integer"),
            ({"guidance_scale": "7"}, 'parameters.guidance_scale must be a number from 0 to 30, got "7"'),
            ({"guidance_scale": 30.01}, "got 30.01"),
            ({"guidance_scale": False}, "got false"),
            ({"negative_prompt": 5}, "parameters.negative_prompt must be a string, got 5"),
        ]
        for parameters, message in cases:
            with self.subTest(parameters=parameters):
                self.assertRejected(body(parameters), message)

    def test_nan_and_infinity_are_not_json(self):
        self.assertRejected('{"inputs": "x", "parameters": {"guidance_scale": NaN}}', "not valid JSON", "NaN")
        self.assertRejected('{"inputs": "x", "parameters": {"guidance_scale": Infinity}}', "not valid JSON")

    def test_unknown_fields_are_rejected_not_passed_to_the_pipeline(self):
        self.assertRejected(body({"num_images_per_prompt": 4, "output_type": "latent"}), "unknown parameter(s) num_images_per_prompt, output_type")
        self.assertRejected(body(prompt="x"), "unknown field(s) prompt")

    def test_body_that_is_not_a_json_object(self):
        self.assertRejected("[]", "request body must be a JSON object")
        self.assertRejected("{", "request body is not valid JSON")
        self.assertRejected(json.dumps({"inputs": "x", "parameters": [1]}), "parameters must be a JSON object")
        self.assertRejected(None, "request body is empty")
        self.assertRejected(b"\xff\xfe", "not UTF-8")

    def test_body_over_the_inline_limit(self):
        error = self.assertRejected(body(inputs="x" * BODY_MAX_BYTES), "at most 128000", error=PayloadTooLarge)
        self.assertEqual(error.status, 413)

    def test_bytes_bodies_parse_like_text(self):
        self.assertEqual(parse_request(body().encode("utf-8"), SIZES), parse_request(body(), SIZES))
        self.assertEqual(parse_request(bytearray(body(), "utf-8"), SIZES).prompt, "a lighthouse at dawn")


class Headers(unittest.TestCase):
    def test_json_content_types_are_accepted(self):
        for value in ("application/json", "application/json; charset=utf-8", "Application/JSON"):
            check_content_type(value)

    def test_other_content_types_are_415(self):
        for value in ("text/plain", "application/x-npy", None, ""):
            with self.subTest(value=value), self.assertRaises(UnsupportedMediaType) as caught:
                check_content_type(value)
            self.assertEqual(caught.exception.status, 415)

    def test_accept_must_allow_json(self):
        for value in (None, "", "application/json", "*/*", "image/png, application/*;q=0.5"):
            check_accept(value)
        with self.assertRaises(NotAcceptable) as caught:
            check_accept("image/png")
        self.assertEqual(caught.exception.status, 406)


if __name__ == "__main__":
    unittest.main()
