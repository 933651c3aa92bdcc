"""The GEMM ladder on the CPU: every numba-cpu kernel against xp.matmul, the registry, and training.

The CUDA kernels are tested in ``test_kernels_cuda.py`` (on a GPU, or under
Numba's CUDA simulator through ``test_kernels_cudasim.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import minidl as md
from minidl.kernels import registry

pytest.importorskip("numba", reason="the GEMM kernels need Numba: pip install 'minidl[numba]'")

CPU_KERNELS = registry.available("numba-cpu")

# (m, k, n): squares of awkward sizes, then mixes that cross every tile edge of the kernels.
SQUARE_SIZES = [(size, size, size) for size in (1, 7, 31, 33, 65)]
MIXED_SHAPES = [(1, 65, 7), (33, 1, 31), (65, 7, 33), (31, 33, 1), (2, 130, 17), (70, 300, 20), (3, 260, 4100)]


def random_pair(m: int, k: int, n: int, dtype=np.float32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)


def assert_matches_matmul(spec: str, a: np.ndarray, b: np.ndarray) -> None:
    """The kernel's ``a @ b`` equals NumPy's to float32 accuracy (sums of K products in another order)."""
    result = registry.run_matmul(spec, a, b)
    expected = np.matmul(a, b)
    assert result.shape == expected.shape and result.dtype == expected.dtype
    tolerance = 1e-5 if a.dtype == np.float32 else 1e-12
    scale = np.sqrt(a.shape[-1]) + 1.0          # the error of a K-term sum grows like sqrt(K)
    np.testing.assert_allclose(result, expected, rtol=tolerance * scale, atol=tolerance * scale)


@pytest.mark.parametrize("shape", SQUARE_SIZES + MIXED_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("kernel", CPU_KERNELS)
def test_cpu_kernel_matches_matmul(kernel, shape):
    assert_matches_matmul(f"numba-cpu:{kernel}", *random_pair(*shape))


@pytest.mark.parametrize("kernel", CPU_KERNELS)
def test_cpu_kernel_computes_float64_in_float64(kernel):
    assert_matches_matmul(f"numba-cpu:{kernel}", *random_pair(33, 17, 9, dtype=np.float64))


@pytest.mark.parametrize("kernel", CPU_KERNELS)
def test_cpu_kernel_accepts_transposed_views(kernel):
    a, b = random_pair(9, 7, 5)
    assert_matches_matmul(f"numba-cpu:{kernel}", np.ascontiguousarray(a.T).T, b.T.copy().T)


@pytest.mark.parametrize("shapes", [((4, 5, 6), (6, 3)), ((2, 1, 5, 6), (3, 6, 2)), ((5, 6), (2, 6, 4))])
def test_kernel_broadcasts_batch_axes_like_matmul(shapes):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(shape).astype(np.float32) for shape in shapes)
    assert_matches_matmul("numba-cpu:packed", a, b)


def test_kernel_handles_empty_dimensions():
    a, b = random_pair(3, 0, 4)
    np.testing.assert_array_equal(registry.run_matmul("numba-cpu:ikj", a, b), np.zeros((3, 4), np.float32))
    assert registry.run_matmul("numba-cpu:ikj", *random_pair(0, 3, 4)).shape == (0, 4)


def test_parse_spec_splits_device_and_name():
    assert registry.parse_spec("numba-cuda:tiled") == ("numba-cuda", "tiled")


@pytest.mark.parametrize("spec, listed", [("numba-cpu:tiled", "naive, ikj, blocked, packed"),
                                          ("numba-cuda:fast", "coalesced"), ("numba-gpu:naive", "numba-cpu"),
                                          ("cublas", "numba-cpu:packed")])
def test_unknown_spec_lists_the_known_kernels(spec, listed):
    with pytest.raises(ValueError, match=listed):
        md.set_matmul(spec)


def test_cpu_kernel_refuses_array_api_strict_arrays():
    with md.using_backend("array_api_strict"), md.using_matmul("numba-cpu:ikj"):
        x = md.ones((2, 3))
        with pytest.raises(TypeError, match="numba-cpu:ikj runs on numpy arrays.*array_api_strict"):
            x @ md.ones((3, 2))


def test_cuda_kernel_refuses_numpy_arrays_on_real_hardware():
    pytest.importorskip("numba.cuda", reason="numba-cuda is not installed")
    import numba

    if numba.config.ENABLE_CUDASIM:
        pytest.skip("under NUMBA_ENABLE_CUDASIM=1 the CUDA kernels run on NumPy arrays by design")
    with pytest.raises(TypeError, match="numba-cuda:tiled runs on cupy arrays, but got numpy"):
        registry.run_matmul("numba-cuda:tiled", *random_pair(2, 2, 2))


@pytest.mark.parametrize("kernel", ["ikj", "packed"])
def test_autograd_uses_the_kernel_forward_and_backward(kernel):
    md.manual_seed(0)
    x = md.randn(5, 7, requires_grad=True)
    w = md.randn(3, 7, requires_grad=True)
    m = md.randn(2, 7, 4, requires_grad=True)
    grads = []
    for spec in ("xp", f"numba-cpu:{kernel}"):
        with md.using_matmul(spec):
            for t in (x, w, m):
                t.grad = None
            loss = (md.nn.functional.linear(x, w).sum() * 2 + (x @ m).sum()) ** 2
            loss.backward()
        grads.append([loss.numpy()] + [t.grad.numpy() for t in (x, w, m)])
    for with_xp, with_kernel in zip(*grads):
        np.testing.assert_allclose(with_kernel, with_xp, rtol=1e-4)


def test_gradcheck_passes_through_a_cpu_kernel_in_float64():
    md.manual_seed(0)
    with md.using_backend("numpy"), md.using_matmul("numba-cpu:packed"):
        assert md.gradcheck(lambda a, b: md.tanh(a @ b).sum(), [md.randn(3, 5), md.randn(2, 5, 4)])


def digits_batch(batch: int) -> tuple[md.Tensor, md.Tensor]:
    """The first ``batch`` training digits as tensors on the current backend."""
    images, labels = md.data.digits("train").arrays
    return md.tensor(images[:batch]), md.tensor(labels[:batch])


def train_losses(matmul: str, steps: int = 4, batch: int = 32, hidden: int = 32) -> list[float]:
    """Loss after each SGD step of a 64-hidden-10 MLP on the digits, every matmul through ``matmul``."""
    import minidl.nn as nn
    import minidl.optim as optim

    md.manual_seed(0)
    x, y = digits_batch(batch)
    model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    losses = []
    with md.using_matmul(matmul):
        for _ in range(steps):
            optimizer.zero_grad()
            loss = md.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def assert_same_training(matmul: str, **settings) -> None:
    reference = train_losses("xp", **settings)
    assert reference[-1] < reference[0]                 # it does learn, so the comparison means something
    np.testing.assert_allclose(train_losses(matmul, **settings), reference, rtol=1e-4)


@pytest.mark.parametrize("kernel", CPU_KERNELS)
def test_training_on_a_cpu_kernel_follows_the_blas_loss_curve(kernel):
    with md.using_backend("numpy"):
        assert_same_training(f"numba-cpu:{kernel}")


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": root, **env})


def test_import_minidl_never_imports_numba_and_env_selects_the_kernel():
    code = (
        "import sys, minidl as md\n"
        "assert 'numba' not in sys.modules, 'import minidl imported numba'\n"
        "assert md.get_matmul() == 'numba-cpu:ikj'\n"
        "md.set_matmul('numba-cuda:tiled'); md.set_matmul('numba-cpu:ikj')\n"
        "assert 'numba' not in sys.modules, 'choosing a kernel imported numba'\n"
        "assert (md.ones((2, 3)) @ md.ones((3, 4))).tolist() == [[3.0] * 4] * 2\n"
        "assert 'numba' in sys.modules\n"
    )
    done = _run_python(code, MINIDL_MATMUL="numba-cpu:ikj")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("spec", ["numba-cpu:packed", "numba-cuda:tiled"])
def test_using_a_kernel_without_numba_says_how_to_install_it(spec):
    code = (
        "import sys; sys.modules['numba'] = None  # as if Numba were not installed\n"
        "import minidl as md\n"
        f"md.set_matmul({spec!r})\n"
        "md.ones((2, 2)) @ md.ones((2, 2))\n"
    )
    done = _run_python(code)
    assert done.returncode != 0
    assert "pip install 'minidl[numba]'" in done.stderr
