"""Python binding of libbitnet (ctypes, no compiled extension).

    import bitnet
    with bitnet.Model("model.gguf") as model, model.context() as context:
        prompt = model.tokenize("Once upon a time")
        print(model.detokenize(list(context.generate(prompt, 32))))

Handles close with `with`, close(), or when collected. Failures raise BitnetError(status, message).
"""
from ._library import DEFAULT_SEED, lib as _lib
from .context import Batch, Context
from .errors import BitnetError, Status
from .model import Detokenizer, Model
from .sampler import Sampler

__all__ = ["Batch", "BitnetError", "Context", "DEFAULT_SEED", "Detokenizer", "Model", "Sampler", "Status", "version"]


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.bitnet_version().decode()
