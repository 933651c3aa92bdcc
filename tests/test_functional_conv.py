"""conv2d (im2col + one GEMM), col2im, and pooling: values against direct loops, gradients in float64."""

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.autograd.hooks import install_hook
from minidl.ops.conv import col2im, im2col
from conftest import f64


def conv2d_reference(x, w, b, stride, padding):
    """Direct loops over output pixels (NumPy, float64)."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, height, width = x.shape
    out_channels, _, kh, kw = w.shape
    oh, ow = (height - kh) // stride + 1, (width - kw) // stride + 1
    out = np.zeros((n, out_channels, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + (0 if b is None else b[None, :, None, None])


def pool_reference(x, k, stride, reduce):
    n, c, height, width = x.shape
    oh, ow = (height - k) // stride + 1, (width - k) // stride + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(x[:, :, i * stride:i * stride + k, j * stride:j * stride + k], axis=(2, 3))
    return out


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1), (2, 0), (3, 2)])
def test_conv2d_matches_direct_loops(backend, stride, padding):
    x, w, b = f64(2, 3, 7, 6), f64(4, 3, 3, 2), f64(4)
    expected = conv2d_reference(x.numpy(), w.numpy(), b.numpy(), stride, padding)
    result = F.conv2d(x, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_conv2d_gradient_with_stride_2_and_padding(backend):
    x, w, b = f64(2, 2, 5, 5), f64(3, 2, 3, 3), f64(3)
    assert md.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [x, w, b])


def test_conv2d_gradient_without_bias_rectangular_kernel(backend):
    x, w = f64(1, 2, 4, 5), f64(2, 2, 2, 3)
    assert md.gradcheck(lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=(1, 0)), [x, w])


def test_conv2d_is_one_gemm():
    nodes = []

    class Recorder:
        def forward(self, node, call):
            nodes.append(node.name)
            return call()

        def backward(self, node, call):
            return call()

    x, w = md.randn(2, 3, 8, 8), md.randn(5, 3, 3, 3)
    with install_hook(Recorder()):
        F.conv2d(x, w, md.zeros((5,)), padding=1)
    assert nodes.count("Linear") == 1 and "MatMul" not in nodes
    assert "Im2Col" in nodes


def test_col2im_is_the_adjoint_of_im2col(backend):
    x = f64(2, 3, 6, 5)
    columns = im2col(x, 3, stride=2, padding=1)
    c = f64(*columns.shape)
    left = float((columns * c).sum().item())
    right = float((x * col2im(c, x.shape, 3, stride=2, padding=1)).sum().item())
    assert left == pytest.approx(right, rel=1e-12)


def test_im2col_rows_are_patches_in_weight_order():
    x = md.arange(2 * 4 * 4, dtype=md.float32).reshape((1, 2, 4, 4))
    columns = im2col(x, 2, stride=2)
    assert columns.shape == (4, 8)
    first_patch = x.numpy()[0, :, :2, :2].reshape(-1)  # channel, then kernel row, then kernel column
    np.testing.assert_array_equal(columns.numpy()[0], first_patch)


def test_conv2d_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(3, 8, 8\)"):
        F.conv2d(md.ones((3, 8, 8)), md.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"2 channels.*expects 3"):
        F.conv2d(md.ones((1, 2, 8, 8)), md.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.conv2d(md.ones((1, 3, 2, 2)), md.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        F.conv2d(md.ones((1, 3, 8, 8)), md.ones((4, 3, 3, 3)), stride=0)
    with pytest.raises(TypeError, match="input is float64 but the weight is float32"):
        F.conv2d(md.ones((1, 3, 8, 8), dtype=md.float64), md.ones((4, 3, 3, 3)))


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 2), (3, 1)], ids=["non-overlapping", "overlap-s2", "overlap-s1"])
def test_pooling_values(backend, kernel, stride):
    x = f64(2, 3, 7, 7)
    np.testing.assert_allclose(F.max_pool2d(x, kernel, stride).numpy(), pool_reference(x.numpy(), kernel, stride, np.max))
    np.testing.assert_allclose(F.avg_pool2d(x, kernel, stride).numpy(), pool_reference(x.numpy(), kernel, stride, np.mean),
                               rtol=1e-12)


@pytest.mark.parametrize("kernel, stride", [(2, None), (3, 2), (3, 1)], ids=["non-overlapping", "overlap-s2", "overlap-s1"])
def test_pooling_gradients(backend, kernel, stride):
    x = f64(2, 2, 5, 5)
    assert md.gradcheck(lambda x: F.max_pool2d(x, kernel, stride), [x])
    assert md.gradcheck(lambda x: F.avg_pool2d(x, kernel, stride), [x])


def test_pooling_with_padding(backend):
    x = f64(1, 2, 5, 5)
    out = F.max_pool2d(-md.abs(x) - 1.0, 3, stride=2, padding=1)
    assert out.shape == (1, 2, 3, 3) and float(out.max().item()) < 0  # padding (-inf) never wins
    assert md.gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1), [x])
    assert md.gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1), [x])


def test_max_pool_gradient_goes_to_the_maximum_only():
    x = md.tensor([[[[1.0, 5.0], [2.0, 3.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]


def test_pooling_errors():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.max_pool2d(md.ones((8, 8)), 2)
    with pytest.raises(ValueError, match="at most half the kernel"):
        F.max_pool2d(md.ones((1, 1, 8, 8)), 2, padding=2)
