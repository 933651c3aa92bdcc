"""The CUDA rungs of the GEMM ladder against xp.matmul, and training on each of them.

These tests run in two places:

- on a CUDA GPU (``pytest -m gpu``), on CuPy arrays;
- under Numba's CUDA simulator, on NumPy arrays, when ``NUMBA_ENABLE_CUDASIM=1``
  was set before Numba was imported.  ``test_kernels_cudasim.py`` runs this
  file that way in a subprocess, so the ordinary test run covers it.

Elsewhere they skip.  The simulator runs one Python thread per CUDA thread, so
its shapes stay tiny; they still cross every tile edge (32, 64, 128) somewhere.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import minidl as md

SIMULATING = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"

if not SIMULATING and not md.is_gpu_available():
    pytest.skip("CUDA kernels need a GPU, or NUMBA_ENABLE_CUDASIM=1 (see test_kernels_cudasim.py)",
                allow_module_level=True)
pytest.importorskip("numba.cuda", reason="the CUDA kernels need numba-cuda: pip install 'minidl[numba]'")

from minidl.kernels import registry  # noqa: E402
from test_kernels import assert_same_training, random_pair  # noqa: E402

pytestmark = pytest.mark.gpu
BACKEND = "numpy" if SIMULATING else "cupy"
# Rungs added after the simulator's CI budget was set run ONE ragged shape there (each block is 256 Python
# threads); on a GPU they run every shape like the others.
ONE_SHAPE_UNDER_SIMULATOR = ("warptile",)
ONE_RAGGED_SHAPE = (70, 20, 75)   # crosses the 64-row and 32-column warp tiles, and K = 8 + 8 + 4, in one block
LARGE_TILE_KERNELS = ("blocktile1d", "blocktile2d", "conflict_free", "prefetch") + (
    () if SIMULATING else ONE_SHAPE_UNDER_SIMULATOR)
GEMM_KERNELS = [name for name in registry.available("numba-cuda")
                if name != "gemv" and not (SIMULATING and name in ONE_SHAPE_UNDER_SIMULATOR)]

# (m, k, n), tiny under the simulator: within one tile, then across tile edges in every dimension.
TINY_SHAPES = [(1, 1, 1), (7, 7, 7), (33, 65, 34)]
LARGE_TILE_SHAPE = (130, 31, 66)                            # crosses the 64- and 128-wide tiles too
GEMV_SHAPES = [(1, 1, 1), (1, 65, 33), (3, 31, 7), (2, 600, 40)]   # few rows; K over several chunks of 256
GPU_SHAPES = [(31, 31, 31), (65, 65, 65), (1, 300, 257), (257, 33, 129), (1000, 520, 300)]


def device_matmul(spec: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Run a kernel on host data: moved to the GPU first when there is one."""
    if SIMULATING:
        return registry.run_matmul(spec, a, b)
    import cupy

    return cupy.asnumpy(registry.run_matmul(spec, cupy.asarray(a), cupy.asarray(b)))


def assert_kernel_matches(spec: str, shape: tuple[int, int, int]) -> None:
    a, b = random_pair(*shape)
    scale = 1e-5 * (np.sqrt(shape[1]) + 1.0)
    np.testing.assert_allclose(device_matmul(spec, a, b), a @ b, rtol=scale, atol=scale)


@pytest.mark.parametrize("shape", TINY_SHAPES + ([] if SIMULATING else GPU_SHAPES), ids=str)
@pytest.mark.parametrize("kernel", GEMM_KERNELS)
def test_cuda_kernel_matches_matmul(kernel, shape):
    assert_kernel_matches(f"numba-cuda:{kernel}", shape)


@pytest.mark.parametrize("kernel", LARGE_TILE_KERNELS)
def test_large_tile_kernel_handles_several_ragged_tiles(kernel):
    assert_kernel_matches(f"numba-cuda:{kernel}", LARGE_TILE_SHAPE)


@pytest.mark.parametrize("kernel", ONE_SHAPE_UNDER_SIMULATOR)
def test_newer_kernel_matches_matmul_on_one_ragged_shape(kernel):
    assert_kernel_matches(f"numba-cuda:{kernel}", ONE_RAGGED_SHAPE)


@pytest.mark.parametrize("shape", GEMV_SHAPES + ([] if SIMULATING else GPU_SHAPES), ids=str)
def test_gemv_kernel_matches_matmul(shape):
    assert_kernel_matches("numba-cuda:gemv", shape)


def test_cuda_kernel_refuses_float64():
    a, b = random_pair(2, 2, 2, dtype=np.float64)
    with pytest.raises(TypeError, match="numba-cuda:tiled computes in float32.*float64"):
        device_matmul("numba-cuda:tiled", a, b)


def test_cuda_kernel_runs_batched_matmul():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3, 5)).astype(np.float32), rng.standard_normal((2, 5, 4)).astype(np.float32)
    if SIMULATING:
        result = registry.run_matmul("numba-cuda:coalesced", a, b)
    else:
        import cupy

        result = cupy.asnumpy(registry.run_matmul("numba-cuda:coalesced", cupy.asarray(a), cupy.asarray(b)))
    np.testing.assert_allclose(result, a @ b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel", [name for name in registry.available("numba-cuda")
                                    if not (SIMULATING and name in ONE_SHAPE_UNDER_SIMULATOR)])
def test_training_on_a_cuda_kernel_follows_the_blas_loss_curve(kernel):
    # Tiny under the simulator (each launch starts hundreds of Python threads).
    settings = {"steps": 2, "batch": 4, "hidden": 8} if SIMULATING else {"steps": 4, "batch": 64, "hidden": 64}
    with md.using_backend(BACKEND):
        assert_same_training(f"numba-cuda:{kernel}", **settings)
