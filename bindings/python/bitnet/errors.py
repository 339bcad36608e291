"""Status codes of the C API and the exception that carries them."""
import ctypes
import enum

from ._library import COUNT_ERROR, lib


class Status(enum.IntEnum):
    """bitnet_status: the values are pinned by the header."""

    OK = 0
    INVALID_ARGUMENT = 1
    IO = 2
    INVALID_MODEL = 3
    UNSUPPORTED = 4
    OUT_OF_MEMORY = 5
    CANCELLED = 6
    CONTEXT_FULL = 7
    INVALID_INPUT = 8
    ABORTED = 9
    BACKEND = 10
    BUFFER_TOO_SMALL = 11
    INVALID_STATE = 12
    INTERNAL = 99


class BitnetError(Exception):
    """A failed call: `status` (a Status, or an int the binding does not know) and `message`."""

    def __init__(self, status, message):
        try:
            status = Status(status)
        except ValueError:
            pass
        self.status = status
        self.message = message
        super().__init__(f"{lib.bitnet_status_string(int(status)).decode()}: {message}")


def last_error(status):
    """The exception for a call that just failed with `status` on this thread."""
    return BitnetError(status, lib.bitnet_last_error().decode(errors="replace"))


def check(status):
    if status != Status.OK:
        raise last_error(status)


def fill(element_type, first_guess, call):
    """Calls a C function that fills a buffer and returns a count (see "Vocabulary and tokenizer"
    in bitnet.h); a negative count asks for a bigger buffer. The count functions report no
    status of their own: their failures are invalid arguments. Returns the filled array and count."""
    capacity = max(first_guess, 1)
    while True:
        buffer = (element_type * capacity)()
        count = call(buffer, capacity)
        if count == COUNT_ERROR:
            raise last_error(Status.INVALID_ARGUMENT)
        if count >= 0:
            return buffer, count
        capacity = -count


def fill_bytes(first_guess, call):
    buffer, count = fill(ctypes.c_char, first_guess, call)
    return buffer.raw[:count]
