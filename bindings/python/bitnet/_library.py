"""Finds libbitnet and declares the prototypes of the C functions this package calls.

Search order: the BITNET_LIBRARY environment variable (a path to libbitnet.so), then
ctypes.util.find_library("bitnet"), then the usual install folders.
"""
import ctypes
import ctypes.util
import os
from ctypes import POINTER, c_bool, c_char_p, c_float, c_int, c_int32, c_size_t, c_uint32, c_void_p

_COMMON_PATHS = ("/usr/local/lib/libbitnet.so.0", "/usr/local/lib64/libbitnet.so.0", "/usr/lib/libbitnet.so.0")


def _load():
    candidates = [os.environ.get("BITNET_LIBRARY"), ctypes.util.find_library("bitnet"), *_COMMON_PATHS]
    errors = []
    for candidate in filter(None, candidates):
        try:
            return ctypes.CDLL(candidate)
        except OSError as error:
            errors.append(str(error))
    raise OSError("libbitnet not found; set BITNET_LIBRARY to its path (" + "; ".join(errors) + ")")


lib = _load()

# C enums are ints; handles are opaque pointers.
status_t = c_int
token_t = c_int32
COUNT_ERROR = -(2**31)
TOKEN_NULL = -1
DEFAULT_SEED = 0xFFFFFFFF


class ContextParams(ctypes.Structure):
    """bitnet_context_params; fields are only ever appended in the header."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("n_ctx", c_uint32),
        ("n_batch", c_uint32),
        ("n_seq_max", c_uint32),
        ("n_outputs_max", c_uint32),
        ("n_threads", c_int32),
        ("kv_type", c_int),
        ("quantize_activations", c_bool),
        ("embeddings", c_bool),
        ("abort_callback", c_void_p),
        ("abort_user_data", c_void_p),
        ("buffer", c_void_p),
        ("buffer_size", c_size_t),
        ("backend", c_int),
        ("device_index", c_int32),
    ]


def _declare(name, restype, *argtypes):
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = argtypes


_out = POINTER(c_void_p)
_declare("bitnet_version", c_char_p)
_declare("bitnet_status_string", c_char_p, status_t)
_declare("bitnet_last_error", c_char_p)
_declare("bitnet_model_load_file", status_t, c_char_p, c_void_p, _out)
_declare("bitnet_model_free", None, c_void_p)
_declare("bitnet_model_n_vocab", c_int32, c_void_p)
_declare("bitnet_model_architecture", c_char_p, c_void_p)
_declare("bitnet_context_default_params", ContextParams)
_declare("bitnet_context_new", status_t, c_void_p, POINTER(ContextParams), _out)
_declare("bitnet_context_free", None, c_void_p)
_declare("bitnet_context_n_batch", c_uint32, c_void_p)
_declare("bitnet_batch_new", status_t, c_int32, _out)
_declare("bitnet_batch_clear", None, c_void_p)
_declare("bitnet_batch_add", status_t, c_void_p, token_t, c_int32, POINTER(c_int32), c_int32, c_bool)
_declare("bitnet_batch_size", c_int32, c_void_p)
_declare("bitnet_batch_free", None, c_void_p)
_declare("bitnet_decode", status_t, c_void_p, c_void_p)
_declare("bitnet_get_logits", POINTER(c_float), c_void_p, c_int32)
_declare("bitnet_memory_clear", status_t, c_void_p)
_declare("bitnet_seq_pos_max", c_int32, c_void_p, c_int32)
_declare("bitnet_sampler_chain_new", status_t, c_void_p, _out)
_declare("bitnet_sampler_chain_add", status_t, c_void_p, c_void_p)
_declare("bitnet_sampler_init_greedy", status_t, _out)
_declare("bitnet_sampler_init_dist", status_t, c_uint32, _out)
_declare("bitnet_sampler_init_temperature", status_t, c_float, _out)
_declare("bitnet_sampler_init_top_k", status_t, c_int32, _out)
_declare("bitnet_sampler_init_top_p", status_t, c_float, c_size_t, _out)
_declare("bitnet_sampler_init_min_p", status_t, c_float, c_size_t, _out)
_declare("bitnet_sampler_init_penalties", status_t, c_int32, c_float, c_float, c_float, _out)
_declare("bitnet_sampler_sample", token_t, c_void_p, c_void_p, c_int32)
_declare("bitnet_sampler_accept", status_t, c_void_p, token_t)
_declare("bitnet_sampler_reset", None, c_void_p)
_declare("bitnet_sampler_free", None, c_void_p)
_declare("bitnet_tokenize", c_int32, c_void_p, c_char_p, c_int32, POINTER(token_t), c_int32, c_bool, c_bool)
_declare("bitnet_detokenize", c_int32, c_void_p, POINTER(token_t), c_int32, c_void_p, c_int32, c_bool, c_bool)
_declare("bitnet_token_is_eog", c_bool, c_void_p, token_t)
_declare("bitnet_detokenizer_new", status_t, c_void_p, c_bool, _out)
_declare("bitnet_detokenizer_push", c_int32, c_void_p, token_t, c_void_p, c_int32)
_declare("bitnet_detokenizer_flush", c_int32, c_void_p, c_void_p, c_int32)
_declare("bitnet_detokenizer_free", None, c_void_p)
