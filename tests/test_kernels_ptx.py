"""The CUDA kernels compiled for an H100 (sm_90) without needing one: what the simulator cannot check.

The simulator runs kernels as Python, so it never types them the way the CUDA
compiler does: a host-only function called in a kernel, or a float64 literal
that makes the arithmetic double precision, passes there and fails (or runs
slowly) on a GPU.  Numba can compile to PTX without a GPU when the CUDA
compiler libraries are installed (``pip install 'numba-cuda[cu13]'``); where
they are not, these tests skip.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import types as pytypes
from pathlib import Path

import pytest

from minidl.kernels import registry

if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    pytest.skip("the simulator cannot compile PTX", allow_module_level=True)
cuda = pytest.importorskip("numba.cuda", reason="needs numba-cuda: pip install 'minidl[numba]'")
from numba.core import types  # noqa: E402

MATRIX = types.Array(types.float32, 2, "C")
H100 = (9, 0)


@pytest.fixture
def compile_ptx(monkeypatch):
    """``compile_ptx(kernel)``: its PTX for sm_90; skips the test where the CUDA compiler is missing."""
    import numba.cuda.dispatcher as dispatcher

    if not _has_gpu():  # device functions ask the driver for the GPU's generation: answer for it
        monkeypatch.setattr(dispatcher, "get_current_device", lambda: pytypes.SimpleNamespace(compute_capability=H100))

    def trivial(out):
        out[0, 0] = 1

    try:
        cuda.compile_ptx(trivial, (MATRIX,), cc=H100)
    except Exception as error:  # missing NVVM / NVRTC libraries show up as several error types
        pytest.skip(f"no CUDA compiler libraries here ({type(error).__name__}): pip install 'numba-cuda[cu13]'")

    def compile_kernel(kernel) -> str:
        bounds = kernel.targetoptions.get("launch_bounds")
        return cuda.compile_ptx(kernel.py_func, (MATRIX, MATRIX, MATRIX), cc=H100, launch_bounds=bounds)[0]

    return compile_kernel


def _has_gpu() -> bool:
    try:
        return bool(cuda.is_available())
    except Exception:
        return False


@pytest.mark.parametrize("name", registry.available("numba-cuda"))
def test_cuda_kernel_compiles_for_the_h100_in_float32_only(name, compile_ptx):
    entry = registry.KERNELS["numba-cuda"][name]
    kernel = getattr(importlib.import_module(f"minidl.kernels.{entry.module}"), f"{entry.launcher}_kernel")
    ptx = compile_ptx(kernel)
    assert ".entry" in ptx
    double = re.findall(r"^\s*\S*\.f64\b.*$", ptx, flags=re.MULTILINE)
    assert not double, f"{name} computes in float64 somewhere (write float32(0.0), not 0.0): {double[:3]}"


def _ptxas() -> str | None:
    """The PTX assembler: under CUDA_HOME, else on PATH, else None (``pip install nvidia-cuda-nvcc`` brings one)."""
    candidate = Path(os.environ.get("CUDA_HOME", "/nonexistent")) / "bin" / "ptxas"
    return str(candidate) if candidate.exists() else shutil.which("ptxas")


@pytest.mark.parametrize("name", [n for n in registry.available("numba-cuda") if n != "gemv"])
def test_cuda_kernel_does_not_spill_registers_on_the_h100(name, compile_ptx, tmp_path):
    ptxas = _ptxas()
    if ptxas is None:
        pytest.skip("no ptxas here (CUDA_HOME unset, none on PATH): pip install nvidia-cuda-nvcc")
    entry = registry.KERNELS["numba-cuda"][name]
    kernel = getattr(importlib.import_module(f"minidl.kernels.{entry.module}"), f"{entry.launcher}_kernel")
    source = tmp_path / f"{name}.ptx"
    source.write_text(compile_ptx(kernel))
    done = subprocess.run([ptxas, "-arch=sm_90", "-v", str(source), "-o", str(tmp_path / f"{name}.cubin")],
                          capture_output=True, text=True, timeout=120)
    report = done.stdout + done.stderr
    if "Unsupported .version" in report:  # an older ptxas than the NVVM that wrote the PTX: a setup mismatch
        pytest.skip(f"{ptxas} is older than the PTX Numba emits; set CUDA_HOME to the matching toolkit")
    assert done.returncode == 0, report
    assert "0 bytes spill stores" in report and "0 bytes spill loads" in report, f"{name} spills registers:\n{report}"
