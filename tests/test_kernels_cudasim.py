"""Run the CUDA kernel tests under Numba's CUDA simulator, so that machines without a GPU check them too.

The simulator must be switched on (``NUMBA_ENABLE_CUDASIM=1``) before Numba is
imported, and this test session has usually imported Numba already for the
CPU kernels: hence a fresh Python process running ``test_kernels_cuda.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba", reason="the GEMM kernels need Numba: pip install 'minidl[numba]'")

TESTS = Path(__file__).resolve().parent


@pytest.mark.slow
@pytest.mark.parametrize("selection", ["not training", "training"], ids=["kernels", "training"])
def test_cuda_kernel_tests_pass_under_the_simulator(selection):
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        pytest.skip("this session already runs under the simulator: test_kernels_cuda.py runs in-process")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": str(TESTS.parent)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", selection,
               str(TESTS / "test_kernels_cuda.py")]
    done = subprocess.run(command, cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=300)
    report = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, f"CUDA kernel tests ({selection}) failed under the simulator:\n{report}"
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, report
