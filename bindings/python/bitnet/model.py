"""Models, their vocabulary and streaming detokenization."""
import contextlib
import ctypes
import os

from ._library import lib, token_t
from .errors import BitnetError, Status, check, fill, fill_bytes


class _Handle:
    """An owned C handle: closed by close(), by leaving a `with` block, or when collected."""

    _handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        self.close()

    def _live(self):
        if not self._handle:
            raise BitnetError(Status.INVALID_ARGUMENT, f"{type(self).__name__} is closed")
        return self._handle


class Model(_Handle):
    """A loaded GGUF model. Closing it while contexts still use it frees it after the last one,
    since the C API requires every context to be freed before its model."""

    def __init__(self, path):
        handle = ctypes.c_void_p()
        self._users = 0
        self._closed = False
        check(lib.bitnet_model_load_file(os.fsencode(path), None, ctypes.byref(handle)))
        self._handle = handle

    def close(self):
        self._closed = True
        self._release()

    @contextlib.contextmanager
    def _use(self):
        """Counts a new user (context, detokenizer) of the model, unless making it fails."""
        self._live()
        self._users += 1
        try:
            yield
        except BaseException:
            self._users -= 1
            raise

    def _release(self, user=False):
        self._users -= user
        if self._closed and self._users == 0 and self._handle:
            lib.bitnet_model_free(self._handle)
            self._handle = None

    def _live(self):
        if self._closed:
            raise BitnetError(Status.INVALID_ARGUMENT, "Model is closed")
        return self._handle

    @property
    def n_vocab(self):
        return lib.bitnet_model_n_vocab(self._live())

    @property
    def architecture(self):
        return lib.bitnet_model_architecture(self._live()).decode()

    def tokenize(self, text, add_special=True, parse_special=False):
        """Token ids of `text` (str, or bytes which need not be valid UTF-8)."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        handle = self._live()
        tokens, count = fill(token_t, len(data) + 2, lambda buffer, capacity: lib.bitnet_tokenize(
            handle, data, len(data), buffer, capacity, add_special, parse_special))
        return list(tokens[:count])

    def detokenize(self, tokens):
        """The text of `tokens` without a leading BOS or trailing EOS; invalid UTF-8 becomes U+FFFD."""
        array = (token_t * len(tokens))(*tokens)
        handle = self._live()
        text = fill_bytes(4 * len(tokens) + 16, lambda buffer, capacity: lib.bitnet_detokenize(
            handle, array, len(tokens), buffer, capacity, True, False))
        return text.decode(errors="replace")

    def is_eog(self, token):
        """True for every token that ends generation (EOS, EOT, ...)."""
        return lib.bitnet_token_is_eog(self._live(), token)

    def context(self, **params):
        from .context import Context
        return Context(self, **params)

    def detokenizer(self):
        return Detokenizer(self)


class Detokenizer(_Handle):
    """Turns a stream of tokens into text, holding back characters split across tokens."""

    def __init__(self, model):
        self._model = model
        handle = ctypes.c_void_p()
        with model._use():
            check(lib.bitnet_detokenizer_new(model._live(), False, ctypes.byref(handle)))
        self._handle = handle

    def close(self):
        if self._handle:
            lib.bitnet_detokenizer_free(self._handle)
            self._handle = None
            self._model._release(user=True)

    def push(self, token):
        handle = self._live()
        return fill_bytes(64, lambda buffer, capacity: lib.bitnet_detokenizer_push(
            handle, token, buffer, capacity)).decode(errors="replace")

    def flush(self):
        handle = self._live()
        return fill_bytes(64, lambda buffer, capacity: lib.bitnet_detokenizer_flush(
            handle, buffer, capacity)).decode(errors="replace")
