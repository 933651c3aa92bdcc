"""One backend fixture for the whole suite.

Every test that takes ``backend`` runs on NumPy and array-api-strict, and on
CuPy (marked ``gpu``) where a CUDA GPU is visible; elsewhere the CuPy case is
skipped with a reason.
"""

from __future__ import annotations

import pytest

import minidl as md

BACKENDS = [
    "numpy",
    "array_api_strict",
    pytest.param("cupy", marks=pytest.mark.gpu),
]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The backend name; minidl's current backend is set to it for the test."""
    name = request.param
    if name == "cupy" and not md.is_gpu_available():
        pytest.skip("CuPy backend needs a CUDA GPU (cupy.cuda.is_available() is False here)")
    with md.using_backend(name):
        md.manual_seed(0)
        yield name


@pytest.fixture
def xp(backend):
    """The Array API namespace of the current backend."""
    from minidl.backend import namespace

    return namespace(backend)


def f64(*shape, low=None):
    """A random float64 tensor on the current backend, for gradient checks."""
    t = md.randn(*shape, dtype=md.float64)
    if low is not None:
        t = md.abs(t) + low
    return t
