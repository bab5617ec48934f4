"""Keep glibc from returning and re-faulting the validator's block buffers.

Every block allocates a few buffers of about 1 MiB (the chunk, its decoded
text, the text cut into fields, joined columns) and frees them before the
next block. With glibc's defaults, allocations that large are served by
mmap and given back to the kernel on free (or the top of the heap is
trimmed), so each block faults the same pages in again: about 70 000 minor
faults and a sixth of the CPU time per million rows of the benchmark's file.
glibc raises its mmap threshold by itself after the first such free, so
whether a run paid this depended on what the process had freed before (a
large pattern analysis at contract load hid it). Raising the thresholds
once makes the heap keep those pages: peak memory does not change (the
buffers exist either way), the pages are reused instead of re-faulted.

A no-op anywhere but glibc (musl, macOS, Windows), and when the operator
set ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` themselves.
"""

from __future__ import annotations

import ctypes
import os
from typing import Optional

# <malloc.h> parameter numbers (glibc)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

# glibc caps the mmap threshold at 32 MiB on 64-bit (4 MiB * sizeof(long)).
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 64 * 1024 * 1024
_OPERATOR_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")

_done: Optional[bool] = None


def tune_allocator(libc=None, environ=os.environ) -> bool:
    """Raise glibc's mmap and trim thresholds, once per process; True if
    they were set. ``libc`` (anything with ``mallopt``) is for the tests."""
    global _done
    if libc is None:
        if _done is not None:
            return _done
        _done = _tune(_glibc(), environ)
        return _done
    return _tune(libc, environ)


def _tune(libc, environ) -> bool:
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None or any(name in environ for name in _OPERATOR_SETTINGS):
        return False
    # mallopt returns 1 on success, 0 for a value it refuses.
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def _glibc():
    """The running C library if it is glibc, else None."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        libc = ctypes.CDLL(None)
    except (AttributeError, ValueError, OSError):  # no confstr, unknown name, no libc handle
        return None
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return libc
