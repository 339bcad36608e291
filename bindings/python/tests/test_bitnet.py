"""Tests of the Python binding, run by tests/bindings/test_python.sh, which points BITNET_LIBRARY
at an installed library and sets the BITNET_TEST_* variables to a model and the C API's answers."""
import ctypes
import gc
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import bitnet  # noqa: E402
from bitnet import _library  # noqa: E402

MODEL = os.environ.get("BITNET_TEST_MODEL")


def ids(text):
    return [int(token) for token in text.split()]


class WithoutModel(unittest.TestCase):
    def test_a_missing_model_file_raises_an_io_error(self):
        with self.assertRaises(bitnet.BitnetError) as caught:
            bitnet.Model("/nonexistent/model.gguf")
        self.assertEqual(caught.exception.status, bitnet.Status.IO)
        self.assertIn("/nonexistent/model.gguf", caught.exception.message)

    def test_context_params_match_the_library_layout(self):
        params = _library.lib.bitnet_context_default_params()
        self.assertEqual(params.struct_size, ctypes.sizeof(_library.ContextParams))

    def test_bad_sampler_parameters_raise(self):
        with self.assertRaises(bitnet.BitnetError) as caught:
            bitnet.Sampler.chain(top_p=math.nan)
        self.assertEqual(caught.exception.status, bitnet.Status.INVALID_ARGUMENT)


@unittest.skipUnless(MODEL, "BITNET_TEST_MODEL is not set: run tests/bindings/test_python.sh")
class WithModel(unittest.TestCase):
    def setUp(self):
        self.prompt = os.environ["BITNET_TEST_PROMPT"]
        self.n = int(os.environ["BITNET_TEST_N"])
        self.prompt_tokens = ids(os.environ["BITNET_TEST_PROMPT_TOKENS"])
        self.expected = ids(os.environ["BITNET_TEST_EXPECTED"])

    def test_greedy_generation_matches_the_c_api(self):
        with bitnet.Model(MODEL) as model, model.context() as context:
            prompt = model.tokenize(self.prompt)
            self.assertEqual(prompt, self.prompt_tokens)
            self.assertEqual(list(context.generate(prompt, self.n)), self.expected)

    def test_two_sequences_in_one_batch(self):
        with bitnet.Model(MODEL) as model, model.context(n_seq_max=2) as context, \
                bitnet.Batch(len(self.prompt_tokens)) as batch, bitnet.Sampler.greedy() as sampler:
            for pos, token in enumerate(self.prompt_tokens):
                batch.add(token, pos, (0, 1), pos == len(self.prompt_tokens) - 1)
            context.decode(batch)
            first = sampler.sample(context)
            self.assertEqual(first, self.expected[0])
            batch.clear()
            batch.add(first, len(self.prompt_tokens), (0,), True)
            batch.add(first, len(self.prompt_tokens), (1,), True)
            self.assertEqual(len(batch), 2)
            context.decode(batch)
            self.assertEqual(context.logits(0), context.logits(1))
            if len(self.expected) > 1:
                self.assertEqual(sampler.sample(context, 1), self.expected[1])

    def test_decode_errors_raise_with_their_status(self):
        with bitnet.Model(MODEL) as model, model.context() as context, bitnet.Batch(1) as batch:
            batch.add(model.n_vocab + 5, 0, (0,), True)
            with self.assertRaises(bitnet.BitnetError) as caught:
                context.decode(batch)
            self.assertEqual(caught.exception.status, bitnet.Status.INVALID_INPUT)
            with self.assertRaises(bitnet.BitnetError) as caught:
                batch.add(1, 1, (0,), True)
            self.assertEqual(caught.exception.status, bitnet.Status.BUFFER_TOO_SMALL)

    def test_text_round_trips_and_streams(self):
        with bitnet.Model(MODEL) as model, model.detokenizer() as stream, model.context() as context:
            tokens = model.tokenize(self.prompt, add_special=False)
            self.assertEqual(model.detokenize(tokens), self.prompt)
            self.assertEqual("".join(stream.push(t) for t in tokens) + stream.flush(), self.prompt)
            with bitnet.Sampler.chain(top_k=40, temperature=0.8, seed=7) as sampler:
                self.assertTrue(list(context.generate(tokens, 4, sampler)))

    def test_a_closed_model_is_freed_after_its_last_context(self):
        model = bitnet.Model(MODEL)
        context = model.context()
        model.close()
        with self.assertRaises(bitnet.BitnetError):
            model.tokenize("x")
        self.assertEqual(next(context.generate(self.prompt_tokens, 1)), self.expected[0])
        context.close()
        self.assertIsNone(model._handle)
        del context, model
        gc.collect()


if __name__ == "__main__":
    unittest.main(verbosity=2)
