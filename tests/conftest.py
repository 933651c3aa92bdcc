"""One backend fixture for the whole suite, built from the array libraries that import here.

Every test that takes ``backend`` runs on each library of the default set
that is installed: NumPy, array-api-strict, PyTorch (CPU), and CuPy (marked
``gpu``, skipped without a CUDA GPU). ``MINIDL_TEST_BACKENDS`` (a comma-separated
list, e.g. ``jax`` or ``numpy,dask``) replaces the set. A test that needs a
capability some libraries lack says so with ``@pytest.mark.needs("writeable")``
(any field of `minidl.backend.capabilities.Library`, a device kind, or ``"eager"``,
the opposite of ``"lazy"``); it is skipped, with the
reason, on the libraries without it. No test skips a library by name.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os

import pytest

import minidl as md
from minidl.backend import library

DEFAULT_BACKENDS = ("numpy", "array_api_strict", "torch", "cupy")


def _installed(name: str) -> bool:
    return importlib.util.find_spec(library(name).array_modules[0]) is not None


def chosen_backends() -> list[str]:
    """The libraries the suite runs on: ``MINIDL_TEST_BACKENDS``, or the default set, less those not installed."""
    wanted = os.environ.get("MINIDL_TEST_BACKENDS", "")
    names = [md.backend.resolve_name(n) for n in wanted.split(",") if n.strip()] or list(DEFAULT_BACKENDS)
    return [name for name in names if _installed(name)]


BACKENDS = [pytest.param(name, marks=pytest.mark.gpu) if library(name).devices == ("cuda",) else name
            for name in chosen_backends()]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The backend name; minidl's current backend is set to it for the test."""
    name = request.param
    record = library(name)
    if record.devices == ("cuda",) and not md.is_gpu_available():
        pytest.skip(f"the {name} backend needs a CUDA GPU ({name} sees none here)")
    for mark in request.node.iter_markers("needs"):
        missing = [capability for capability in mark.args if not record.has(capability)]
        if missing:
            pytest.skip(f"needs {', '.join(missing)}, which the {name} backend lacks")
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


def replace_record(monkeypatch, name, **fields):
    """For one test, library ``name``'s record with ``fields`` changed (``float_masks=False``, ``erf=...``)."""
    from minidl.backend import capabilities

    record = dataclasses.replace(library(name), **fields)
    monkeypatch.setattr(capabilities, "_LIBRARIES", {**capabilities._LIBRARIES, name: record})
    return record


def linear_sgd_losses(loss_of, compiled, features=(4, 3), batch=5, steps=4):
    """The losses of ``steps`` SGD steps of one ``nn.Linear`` whose output ``loss_of`` turns into a loss,
    run eagerly or through ``md.compile`` (the same seed either way, so the two lists can be compared)."""
    md.manual_seed(0)
    layer = md.nn.Linear(*features)
    optimizer = md.optim.SGD(layer.parameters(), lr=0.1)

    def step(x):
        optimizer.zero_grad()
        loss = loss_of(layer(x))
        loss.backward()
        optimizer.step()
        return loss

    stepper = md.compile(step) if compiled else step
    x = md.randn(batch, features[0])
    return [stepper(x).item() for _ in range(steps)]
