"""The server gives big freed buffers back to the system (maestro_grpc/allocator.py)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from maestro_grpc.allocator import hold_mmap_threshold

pytestmark = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="the threshold is glibc's"
)

# A burst of 60 MB in buffers of 300 KB, each followed by a small allocation
# that outlives it (as a group commit's buffers are followed by what the
# rest of the server allocates meanwhile), then freed: how much stays.
BURST = """
import sys
import numpy as np
from maestro_grpc.allocator import hold_mmap_threshold

held = hold_mmap_threshold() if sys.argv[1] == "held" else False

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

del_me = np.ones(300_000 // 8)  # freed: glibc raises its threshold to this size
del del_me
base = rss()
burst, kept = [], []
for _ in range(200):
    burst.append(np.ones(300_000 // 8))
    kept.append(bytearray(1024))
del burst
print(held, (rss() - base) / 1e6)
"""


def _left_after_burst(mode: str) -> tuple[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", BURST, mode], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], float(out[1])


def test_a_freed_burst_of_big_buffers_goes_back_to_the_system() -> None:
    held, left = _left_after_burst("held")
    assert held == "True"
    assert left < 10, f"{left:.1f} MB of a 60 MB burst stayed with the threshold held"
    # The same burst with glibc's own sliding threshold keeps most of it:
    # what the server did before.
    held, left = _left_after_burst("default")
    assert held == "False"
    assert left > 30, f"only {left:.1f} MB stayed without the threshold held"


def test_an_operators_own_threshold_is_left_to_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert hold_mmap_threshold() is False
