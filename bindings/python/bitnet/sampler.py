"""Sampler chains: members that turn logits into the next token, in the order they run."""
import ctypes

from ._library import DEFAULT_SEED, TOKEN_NULL, lib
from .errors import BitnetError, Status, check, last_error
from .model import _Handle


class Sampler(_Handle):
    """A chain; make one with Sampler.greedy() or Sampler.chain(...)."""

    def __init__(self):
        handle = ctypes.c_void_p()
        check(lib.bitnet_sampler_chain_new(None, ctypes.byref(handle)))
        self._handle = handle

    @classmethod
    def greedy(cls):
        """Always the most likely token (the lowest id among equals)."""
        sampler = cls()
        sampler._add(lib.bitnet_sampler_init_greedy)
        return sampler

    @classmethod
    def chain(cls, *, penalties=None, top_k=None, top_p=None, min_p=None, temperature=None, seed=DEFAULT_SEED):
        """Members in llama.cpp's usual order: penalties (last_n, repeat, frequency, presence),
        top-k, top-p, min-p, temperature, then a random draw with `seed` (DEFAULT_SEED: random)."""
        sampler = cls()
        try:
            if penalties is not None:
                sampler._add(lib.bitnet_sampler_init_penalties, *penalties)
            if top_k is not None:
                sampler._add(lib.bitnet_sampler_init_top_k, top_k)
            if top_p is not None:
                sampler._add(lib.bitnet_sampler_init_top_p, top_p, 1)
            if min_p is not None:
                sampler._add(lib.bitnet_sampler_init_min_p, min_p, 1)
            if temperature is not None:
                sampler._add(lib.bitnet_sampler_init_temperature, temperature)
            sampler._add(lib.bitnet_sampler_init_dist, seed)
        except BitnetError:
            sampler.close()
            raise
        return sampler

    def _add(self, init, *args):
        member = ctypes.c_void_p()
        check(init(*args, ctypes.byref(member)))
        status = lib.bitnet_sampler_chain_add(self._live(), member)
        if status != Status.OK:
            error = last_error(status)
            lib.bitnet_sampler_free(member)  # a member the chain did not take is still ours
            raise error

    def close(self):
        if self._handle:
            lib.bitnet_sampler_free(self._handle)
            self._handle = None

    def sample(self, context, i=-1):
        """A token from the logits of batch entry `i` of the context's last decode; the token is
        accepted into the chain's history."""
        token = lib.bitnet_sampler_sample(self._live(), context._live(), i)
        if token == TOKEN_NULL:
            raise last_error(Status.INVALID_INPUT)
        return token

    def accept(self, token):
        check(lib.bitnet_sampler_accept(self._live(), token))

    def reset(self):
        lib.bitnet_sampler_reset(self._live())
