"""Big freed buffers go back to the system: a fixed mmap threshold for glibc's malloc.

glibc serves an allocation above its mmap threshold (128 KiB at start)
with a mapping of its own, unmapped when freed. But each time such a
buffer is freed, glibc raises the threshold to its size (up to 32 MiB), so
that from then on buffers of that size come from the heap, where a freed
one stays part of the process as long as anything allocated after it
lives. A server that encodes a group commit's points in buffers of a few
hundred kilobytes to a few megabytes (`metrics/store/points.py`) kept each
burst's high-water mark: 177 MB at the peak of 100 streams against 170 MB
with the threshold held (`bench/ingest.py --rss-only`, 2026-12-03).

`maestro serve` holds it at 128 KiB, unless the operator set glibc's own
`MALLOC_MMAP_THRESHOLD_` (which glibc then applies itself). Elsewhere (musl,
macOS) nothing changes.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt's parameter number for the mmap threshold (malloc.h).
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def hold_mmap_threshold(nbytes: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold at `nbytes`; whether it is now fixed by this call."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library to open, or one without mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, nbytes))
