"""A library's own function where the standard has a gap (erf): used eagerly, and recorded by md.compile."""

import dataclasses
import math

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.backend import capabilities
from conftest import linear_sgd_losses


def test_the_records_name_an_erf_where_the_library_has_one():
    assert capabilities.library("numpy").erf is None             # NumPy has none: minidl's series
    assert capabilities.library("array_api_strict").erf is None
    assert capabilities.library("torch").erf is not None         # torch.special.erf
    assert capabilities.library("jax").erf is not None           # jax.scipy.special.erf


def test_erf_and_gelu_agree_with_the_formula_on_every_backend(backend):
    values = np.linspace(-5, 5, 201)
    x = md.tensor(values, dtype=md.float64, requires_grad=True)
    np.testing.assert_allclose(md.erf(x).numpy(), [math.erf(v) for v in values], rtol=0, atol=1e-12)
    y = F.gelu(x)
    expected = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in values]
    own = md.backend.library(backend).erf is not None
    np.testing.assert_allclose(y.numpy(), expected, rtol=0, atol=1e-14 if own else 1e-6)
    y.sum().backward()
    slope = [0.5 * (1 + math.erf(v / math.sqrt(2))) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
             for v in values]
    np.testing.assert_allclose(x.grad.numpy(), slope, rtol=0, atol=1e-14 if own else 1e-6)


@pytest.mark.needs("eager")
def test_md_compile_records_the_library_erf(backend, monkeypatch):
    original = md.backend.library(backend)
    if original.erf is None:
        pytest.skip(f"{backend} has no erf of its own")
    calls = []

    def counted(array):
        calls.append(1)
        return original.erf(array)

    monkeypatch.setattr(capabilities, "_LIBRARIES", {**capabilities._LIBRARIES,
                                                     backend: dataclasses.replace(original, erf=counted)})

    def loss_of(y):
        return F.gelu(y).sum()

    eager = linear_sgd_losses(loss_of, compiled=False, features=(6, 4), batch=3)
    assert len(calls) == 4
    calls.clear()
    assert linear_sgd_losses(loss_of, compiled=True, features=(6, 4), batch=3) == eager
    assert len(calls) == 4   # traced once, replayed three times: each replay calls the library's erf
