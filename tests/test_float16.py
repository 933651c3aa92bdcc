"""float16 tensors (md.float16, md.half) and the matmul precision setting."""

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F


def test_half_is_float16_and_creation_keeps_it():
    assert md.half is md.float16
    assert md.zeros((2, 3), dtype=md.float16).dtype is md.float16
    assert md.tensor([1.0, 2.0], dtype="half").dtype is md.float16
    assert md.tensor(np.ones(3, np.float16), dtype=md.float16).dtype is md.float16
    assert md.ones((2,)).half().dtype is md.float16


def test_float16_ops_and_backward_stay_float16_and_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x_host, w_host = rng.standard_normal((4, 5)).astype(np.float16), rng.standard_normal((3, 5)).astype(np.float16)
    x, w = md.tensor(x_host, dtype=md.float16, requires_grad=True), md.tensor(w_host, dtype=md.float16,
                                                                             requires_grad=True)
    loss = (md.tanh(F.linear(x, w)) * 2.0).sum()
    loss.backward()
    assert loss.dtype is md.float16 and x.grad.dtype is md.float16 and w.grad.dtype is md.float16
    tx, tw = (torch.tensor(a, requires_grad=True) for a in (x_host, w_host))
    torch_loss = (torch.tanh(torch.nn.functional.linear(tx, tw)) * 2.0).sum()
    torch_loss.backward()
    assert np.allclose(loss.item(), torch_loss.item(), rtol=1e-2, atol=1e-2)
    assert np.allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-2, atol=1e-2)


def test_backend_without_float16_says_so():
    with pytest.raises(TypeError, match="float16"):
        md.zeros((2,), dtype=md.float16, backend="array_api_strict")


def test_bfloat16_is_a_clear_error():
    with pytest.raises(TypeError, match="bfloat16"):
        md.zeros((2,), dtype="bfloat16")


def test_mixing_float16_and_float32_outside_autocast_is_refused():
    with pytest.raises(TypeError, match="float16"):
        md.ones((2,), dtype=md.float16) + md.ones((2,))


def test_matmul_precision_round_trip_and_no_effect_on_numpy():
    before = md.get_matmul_precision()
    a, b = md.randn(8, 8), md.randn(8, 8)
    exact = (a @ b).numpy()
    try:
        md.set_matmul_precision("high")
        assert md.get_matmul_precision() == "high"
        assert np.array_equal((a @ b).numpy(), exact)  # NumPy's BLAS has no TF32: recorded, no effect
    finally:
        md.set_matmul_precision(before)


def test_unknown_matmul_precision_is_refused():
    with pytest.raises(ValueError, match="highest"):
        md.set_matmul_precision("fast")
