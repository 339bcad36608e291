"""Contexts, batches and token generation."""
import ctypes

from ._library import lib
from .errors import Status, check, last_error
from .model import _Handle
from .sampler import Sampler

_SEQ = 0  # the sequence generate() runs on


class Batch(_Handle):
    """The tokens of one decode call, each with its position, sequences and whether it wants logits."""

    def __init__(self, capacity):
        handle = ctypes.c_void_p()
        check(lib.bitnet_batch_new(capacity, ctypes.byref(handle)))
        self._handle = handle

    def close(self):
        if self._handle:
            lib.bitnet_batch_free(self._handle)
            self._handle = None

    def add(self, token, pos, seq_ids=(0,), logits=False):
        ids = (ctypes.c_int32 * len(seq_ids))(*seq_ids)
        check(lib.bitnet_batch_add(self._live(), token, pos, ids, len(seq_ids), logits))

    def clear(self):
        lib.bitnet_batch_clear(self._live())

    def __len__(self):
        return lib.bitnet_batch_size(self._live())


class Context(_Handle):
    """The KV cache and outputs of one or more sequences. Keyword arguments set the fields of
    bitnet_context_params (n_ctx, n_batch, n_seq_max, n_threads, ...); the rest keep defaults."""

    def __init__(self, model, **params):
        raw = lib.bitnet_context_default_params()
        for name, value in params.items():
            if name == "struct_size" or not hasattr(raw, name):
                raise TypeError(f"unknown context parameter {name!r}")
            setattr(raw, name, value)
        self.model = model
        handle = ctypes.c_void_p()
        with model._use():
            check(lib.bitnet_context_new(model._live(), ctypes.byref(raw), ctypes.byref(handle)))
        self._handle = handle

    def close(self):
        if self._handle:
            lib.bitnet_context_free(self._handle)
            self._handle = None
            self.model._release(user=True)

    def decode(self, batch):
        check(lib.bitnet_decode(self._live(), batch._live()))

    def logits(self, i=-1):
        """The logits of batch entry `i` of the last decode (-1: the last that asked), as a list."""
        logits = lib.bitnet_get_logits(self._live(), i)
        if not logits:
            raise last_error(Status.INVALID_ARGUMENT)
        # The model's handle stays valid while this context is open, even after model.close().
        return logits[: lib.bitnet_model_n_vocab(self.model._handle)]

    def clear(self):
        check(lib.bitnet_memory_clear(self._live()))

    def generate(self, prompt, max_tokens, sampler=None):
        """Decodes `prompt` after whatever sequence 0 holds, then yields up to `max_tokens`
        tokens picked by `sampler` (greedy when None), stopping before an end-of-generation token."""
        if not prompt:
            raise ValueError("generate needs at least one prompt token")
        owned = sampler is None
        sampler = Sampler.greedy() if owned else sampler
        n_batch = lib.bitnet_context_n_batch(self._live())
        pos = lib.bitnet_seq_pos_max(self._live(), _SEQ) + 1
        try:
            with Batch(n_batch) as batch:
                for start in range(0, len(prompt), n_batch):
                    batch.clear()
                    for i, token in enumerate(prompt[start:start + n_batch], start):
                        batch.add(token, pos + i, (_SEQ,), i == len(prompt) - 1)
                    self.decode(batch)
                pos += len(prompt)
                for _ in range(max_tokens):
                    token = sampler.sample(self)
                    if lib.bitnet_token_is_eog(self.model._handle, token):
                        return
                    yield token
                    # Decoded only when the caller asks for the next token.
                    batch.clear()
                    batch.add(token, pos, (_SEQ,), True)
                    self.decode(batch)
                    pos += 1
        finally:
            if owned:
                sampler.close()
