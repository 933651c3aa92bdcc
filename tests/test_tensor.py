"""Tensors: creation, dtypes, conversions."""

import pytest

import minidl as md


def test_float_data_defaults_to_float32(backend):
    assert md.tensor([1.0, 2.0]).dtype == md.float32
    assert md.tensor(3.5).dtype == md.float32
    assert md.zeros((2,)).dtype == md.float32
    assert md.randn(2).dtype == md.float32


def test_float64_on_request(backend):
    assert md.tensor([1.0], dtype=md.float64).dtype == md.float64
    assert md.ones(2, dtype="float64").dtype == md.float64


def test_integer_and_bool_data(backend):
    assert md.tensor([1, 2]).dtype == md.int64
    assert md.tensor([True, False]).dtype == md.bool
    assert md.arange(5).dtype == md.int64
    assert md.arange(0.0, 1.0, 0.25).shape == (4,)


def test_creation_functions(backend):
    assert md.zeros(2, 3).shape == (2, 3)
    assert md.ones((4,)).tolist() == [1.0] * 4
    assert md.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert md.eye(3).numpy().trace() == 3.0
    r = md.rand(100)
    assert 0.0 <= r.min().item() and r.max().item() < 1.0


def test_from_numpy_array(backend):
    import numpy as np

    t = md.tensor(np.arange(6, dtype=np.float64).reshape(2, 3))
    assert t.shape == (2, 3) and t.dtype == md.float32 and t.backend == backend


def test_conversions(backend):
    t = md.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert t.numpy().shape == (2, 2)
    assert t.sum().item() == 10.0
    assert (t.ndim, t.size, len(t)) == (2, 4, 2)
    assert "tensor(" in repr(t) and backend in repr(t)


def test_item_needs_one_element(backend):
    with pytest.raises(ValueError, match=r"one element.*\(2,\)"):
        md.tensor([1.0, 2.0]).item()


def test_requires_grad_only_for_floats(backend):
    with pytest.raises(TypeError, match="floating-point"):
        md.tensor([1, 2], requires_grad=True)


def test_detach_cuts_the_graph(backend):
    x = md.tensor([1.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.creator is None


def test_no_grad_records_nothing(backend):
    x = md.tensor([1.0], requires_grad=True)
    with md.no_grad():
        y = x * 3
    assert not y.requires_grad and y.creator is None
    assert md.is_grad_enabled()
