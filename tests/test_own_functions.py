"""A library's own function where the standard has a gap (erf, scatter-add): used eagerly, recorded by md.compile."""

import math

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.backend import capabilities
from conftest import linear_sgd_losses, replace_record


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


def test_erf_and_gelu_keep_float16_and_make_integers_float32(backend):
    values = np.linspace(-4, 4, 81)
    try:
        x = md.tensor(values, dtype=md.float16)
    except TypeError:  # array-api-strict: the standard has no float16
        pytest.skip(f"{backend} has no float16")
    for result, expected in ((md.erf(x), [math.erf(v) for v in values]),
                             (F.gelu(x), [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in values])):
        assert result.dtype == md.float16
        np.testing.assert_allclose(result.numpy().astype(float), expected, rtol=0, atol=4e-3)  # float16 rounding
    assert md.erf(md.tensor([0, 1])).dtype == md.float32


def _gelu_losses(compiled):
    return linear_sgd_losses(lambda y: F.gelu(y).sum(), compiled=compiled, features=(6, 4), batch=3)


def _embedding_losses(compiled):
    """An embedding's gradient is a scatter-add of its output's gradient rows (repeated indices: summed)."""
    md.manual_seed(0)
    table = md.nn.Embedding(10, 4)
    optimizer = md.optim.SGD(table.parameters(), lr=0.1)

    def step(indices):
        optimizer.zero_grad()
        loss = (table(indices) ** 2).sum()
        loss.backward()
        optimizer.step()
        return loss

    stepper = md.compile(step) if compiled else step
    batches = [[3, 1, 3, 7, 3], [0, 9, 9, 2, 5], [4, 4, 4, 4, 4], [8, 0, 1, 6, 2]]  # other indices each step
    return [stepper(md.tensor(indices)).item() for indices in batches]


@pytest.mark.needs("eager")
@pytest.mark.parametrize("gap, losses", [("erf", _gelu_losses), ("scatter_add", _embedding_losses)])
def test_md_compile_records_the_library_function(backend, monkeypatch, gap, losses):
    original = md.backend.library(backend)
    if getattr(original, gap) is None:
        pytest.skip(f"{backend} has no {gap} of its own")
    calls = []

    def counted(*args):
        calls.append(1)
        return getattr(original, gap)(*args)

    replace_record(monkeypatch, backend, **{gap: counted})
    eager = losses(compiled=False)
    assert len(calls) == 4
    calls.clear()
    assert losses(compiled=True) == eager
    assert len(calls) == 4   # traced once, replayed three times: each replay calls the library's function


def test_gelu_without_copysign_gives_the_same_values(monkeypatch):
    """ndonnx names copysign but raises NotImplementedError: GELU's series then multiplies by sign(x)."""
    x = md.tensor(np.linspace(-6, 6, 121), dtype=md.float64, requires_grad=True)
    y = F.gelu(x)
    y.sum().backward()
    expected, slope = y.numpy(), x.grad.numpy()

    def missing(*args):
        raise NotImplementedError

    monkeypatch.setattr(md.backend.namespace("numpy"), "copysign", missing)
    x.grad = None
    y = F.gelu(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), expected)
    # at x = 0 the series' Phi(|x|) - 1/2 is 1.5e-8, not 0: copysign keeps it, sign(0) = 0 drops it
    np.testing.assert_allclose(x.grad.numpy(), slope, rtol=0, atol=2e-8)
