"""Exercise cuda_tile: one 16 x 16 product under Numba's CUDA simulator, in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXERCISE = "cuda_tile"
ROOT = Path(__file__).resolve().parents[2]


def test_one_16x16_product_under_the_simulator(ex):
    pytest.importorskip("numba", reason="the CUDA exercise needs Numba: pip install 'minidl[numba]'")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "exercises.cudasim", ex.__name__], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    report = (done.stdout + done.stderr)[-3000:]
    if done.returncode == 3:
        raise NotImplementedError(report)
    assert done.returncode == 0, f"the tile kernel gave a wrong product under the simulator:\n{report}"
