"""Keep a training process' large temporaries in its heap (glibc malloc on Linux).

glibc serves a block above its mmap threshold (128 KiB, raised up to 32 MiB as such
blocks are freed) with fresh pages from the kernel, faulted in and zeroed 4 KiB at a
time, and gives memory at the top of the heap back past its trim threshold. A training
step's largest temporaries come and go every step: torch's CPU LSTM kernel allocates a
workspace of about 51 MB per step for the token classifier of docs/performance.md
(batch 64, 200 steps, 64 units), above any threshold glibc picks itself, so every step
faulted it in anew. `keep_heap()` fixes both thresholds above such blocks: they are
then reused from the heap. The price is memory: the process keeps up to that much
freed memory instead of returning it.

`zoo train` calls it when it starts (set `ZOO_MALLOC=default` to keep glibc's
behaviour); in your own script call it before training. Where the C library is not
glibc it changes nothing and returns False.

Example:
    >>> from zoo.training import allocator
    >>> applied = allocator.keep_heap()  # True under glibc
"""

import ctypes
import ctypes.util
import sys

# mallopt's parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
DEFAULT_THRESHOLD = 256 << 20


def keep_heap(threshold=DEFAULT_THRESHOLD):
    """Fix glibc's mmap and trim thresholds at `threshold` bytes (default 256 MiB), so
    freed blocks up to that size are reused rather than returned to the kernel. Returns
    whether both were set (False where the C library is not glibc)."""
    if not isinstance(threshold, int) or not 0 < threshold < 2**31:
        raise ValueError(f"threshold is a number of bytes in 1..2**31-1 (mallopt takes an "
                         f"int), got {threshold!r}")
    mallopt = _glibc_mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, threshold)) and bool(
        mallopt(M_TRIM_THRESHOLD, threshold))


def _glibc_mallopt():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 (glibc only: musl has a no-op mallopt)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt
