"""md.autocast(): GEMM-type ops in float16, reductions, softmax, norms and losses in float32."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F


def _inputs():
    md.manual_seed(0)
    return md.randn(4, 8), md.randn(3, 8), md.randn(3), md.tensor([0, 1, 2, 0])


def _minidl_dtypes():
    x, w, b, labels = _inputs()
    with md.autocast("cpu", dtype=md.float16):
        y = F.linear(x, w, b)
        return {
            "linear": y.dtype.name, "matmul": (x @ w.T).dtype.name,
            "conv2d": F.conv2d(md.randn(1, 2, 5, 5), md.randn(3, 2, 3, 3)).dtype.name,
            "cross_entropy": F.cross_entropy(y, labels).dtype.name, "mse_loss": F.mse_loss(y, y.detach()).dtype.name,
            "bce_with_logits": F.binary_cross_entropy_with_logits(y, md.rand(4, 3)).dtype.name,
            "relu": F.relu(y).dtype.name, "add float16 + float32": (y + b).dtype.name,
        }


def test_output_dtypes_match_torch_autocast():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, w, b = torch.randn(4, 8), torch.randn(3, 8), torch.randn(3)
    with torch.autocast("cpu", dtype=torch.float16):
        y = tf.linear(x, w, b)
        expected = {
            "linear": y.dtype, "matmul": (x @ w.T).dtype,
            "conv2d": tf.conv2d(torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)).dtype,
            "cross_entropy": tf.cross_entropy(y, torch.tensor([0, 1, 2, 0])).dtype,
            "mse_loss": tf.mse_loss(y, y.detach()).dtype,
            "bce_with_logits": tf.binary_cross_entropy_with_logits(y, torch.rand(4, 3)).dtype,
            "relu": tf.relu(y).dtype, "add float16 + float32": (y + b).dtype,
        }
    assert _minidl_dtypes() == {op: str(dtype).removeprefix("torch.") for op, dtype in expected.items()}


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax, md.sum, md.mean])
def test_range_sensitive_ops_compute_in_float32(op):
    # PyTorch's CUDA autocast list ("ops that can autocast to float32"); its CPU list keeps these in low precision.
    with md.autocast():
        assert op(md.ones((2, 3), dtype=md.float16)).dtype is md.float32


@pytest.mark.parametrize("layer", [nn.BatchNorm1d(3), nn.LayerNorm(3), nn.RMSNorm(3)], ids=type)
def test_norms_compute_in_float32(layer):
    with md.autocast():
        assert layer(md.randn(4, 3).half()).dtype is md.float32


@pytest.mark.parametrize("norm", ["rms_norm", "layer_norm"])
def test_float16_norms_compute_in_float32_as_in_pytorch(norm):
    torch = pytest.importorskip("torch")
    values = [[1e-3, 0.0, 2e-3], [3e-2, -1e-3, 5e-4]]  # x*x subnormal in float16
    x, weight = md.tensor(values, dtype=md.float16), md.tensor([1.0, 2.0, 0.5], dtype=md.float16)
    expected = getattr(torch.nn.functional, norm)(torch.tensor(values, dtype=torch.float16), (3,),
                                                  torch.tensor([1.0, 2.0, 0.5], dtype=torch.float16))
    result = getattr(F, norm)(x, (3,), weight)
    assert result.dtype is md.float16
    np.testing.assert_allclose(result.numpy().astype(float), expected.numpy().astype(float), rtol=2e-3, atol=1e-3)


def test_float32_parameters_get_float32_gradients_close_to_torch():
    torch = pytest.importorskip("torch")
    x, w, b, labels = _inputs()
    w.requires_grad_(), b.requires_grad_()
    with md.autocast(dtype=md.float16):
        loss = F.cross_entropy(md.relu(F.linear(x, w, b)), labels)
    loss.backward()
    tw, tb = (torch.tensor(t.numpy(), requires_grad=True) for t in (w, b))
    with torch.autocast("cpu", dtype=torch.float16):
        torch_loss = torch.nn.functional.cross_entropy(
            torch.relu(torch.nn.functional.linear(torch.tensor(x.numpy()), tw, tb)), torch.tensor(labels.numpy()))
    torch_loss.backward()
    assert w.grad.dtype is md.float32 and b.grad.dtype is md.float32
    assert np.allclose(loss.item(), torch_loss.item(), rtol=2e-3)
    assert np.allclose(w.grad.numpy(), tw.grad.numpy(), atol=2e-3)
    assert np.allclose(b.grad.numpy(), tb.grad.numpy(), atol=2e-3)


def test_disabled_autocast_changes_nothing_and_restores_on_exit():
    x, w, _, _ = _inputs()
    with md.autocast(enabled=False):
        assert (x @ w.T).dtype is md.float32
    with md.autocast():
        with md.autocast(enabled=False):
            assert not md.is_autocast_enabled()
        assert md.is_autocast_enabled()
    assert not md.is_autocast_enabled()


def test_autocast_as_decorator():
    @md.autocast()
    def forward(x, w):
        return x @ w.T

    x, w, _, _ = _inputs()
    assert forward(x, w).dtype is md.float16
    assert md.amp.autocast is md.autocast


def test_bad_device_type_and_dtype_are_refused():
    with pytest.raises(ValueError, match="device_type"):
        md.autocast("tpu")
    with pytest.raises(TypeError, match="bfloat16"):
        md.autocast(dtype="bfloat16")
    with pytest.raises(TypeError, match="float16"):
        md.autocast(dtype=md.float32)


def test_autocast_on_a_backend_without_float16_says_so():
    with md.using_backend("array_api_strict"):
        x = md.ones((2, 3))
        with md.autocast(), pytest.raises(TypeError, match="float16"):
            x @ x.T


def test_float64_is_not_cast_as_in_torch():
    a64 = md.ones((2, 3), dtype=md.float64)
    with md.autocast():
        assert (a64 @ a64.T).dtype is md.float64
        with pytest.raises(TypeError, match="float64.*float16|float16.*float64"):
            a64 @ md.ones((3, 2))
