"""Parity with PyTorch: matmul, softmax, losses, convolution, pooling, normalization, dropout, embedding, creation."""

from __future__ import annotations

import numpy
import pytest

import minidl as md
import minidl.nn.functional as F
from parity import arrays, check, check_raises, torch

TF = torch.nn.functional


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)),
                                    ((0, 4), (4, 3))], ids=str)
def test_matmul(backend, shapes):
    check(lambda a, b: a @ b, *arrays(*shapes))


def test_matmul_float64_gradcheck(backend):
    check(lambda a, b: a @ b, *arrays((3, 4), (4, 2), dtype="float64"), gradcheck=True)


def test_linear(backend):
    x, w, b = arrays((5, 3), (4, 3), (4,))
    check(F.linear, x, w, b, torch_fn=TF.linear)


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(backend, name, axis):
    (x,) = arrays((3, 4))
    check(lambda t: getattr(F, name)(t, axis=axis), x, torch_fn=lambda t: getattr(TF, name)(t, dim=axis))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_a_0d_tensor(backend, name):
    x = numpy.array(0.7, "float32")
    check(lambda t: getattr(F, name)(t, axis=-1), x, torch_fn=lambda t: getattr(TF, name)(t, dim=-1))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_with_minus_inf_and_large_logits(backend, name):
    x = numpy.array([[0.0, -numpy.inf, 1.0], [1e4, 0.0, -1e4]], "float32")
    check(lambda t: getattr(F, name)(t, axis=-1), x, torch_fn=lambda t: getattr(TF, name)(t, dim=-1))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy(backend, reduction):
    (logits,) = arrays((5, 4))
    target = numpy.array([0, 3, 1, 1, 2], "int64")
    check(lambda x, y: F.cross_entropy(x, y, reduction=reduction), logits, target,
          torch_fn=lambda x, y: TF.cross_entropy(x, y, reduction=reduction))


def test_cross_entropy_with_a_minus_inf_logit(backend):
    logits = numpy.array([[0.0, -numpy.inf, 1.0], [2.0, 0.0, -numpy.inf]], "float32")
    target = numpy.array([0, 1], "int64")
    check(F.cross_entropy, logits, target, torch_fn=TF.cross_entropy)


def test_cross_entropy_sum_of_an_empty_batch_is_zero(backend):
    logits = numpy.zeros((0, 3), "float32")
    target = numpy.zeros((0,), "int64")
    check(lambda x, y: F.cross_entropy(x, y, reduction="sum"), logits, target,
          torch_fn=lambda x, y: TF.cross_entropy(x, y, reduction="sum"))


def test_cross_entropy_mean_of_an_empty_batch_is_an_error(backend):
    # PyTorch returns nan (0/0); minidl refuses: a nan loss silently poisons training.
    with pytest.raises(ValueError, match="empty batch"):
        F.cross_entropy(md.zeros((0, 3)), md.tensor(numpy.zeros((0,), "int64")))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_and_bce_with_logits(backend, reduction):
    x, y = arrays((4, 3), (4, 3))
    check(lambda a, b: F.mse_loss(a, b, reduction=reduction), x, y,
          torch_fn=lambda a, b: TF.mse_loss(a, b, reduction=reduction))
    probabilities = 1.0 / (1.0 + numpy.exp(-y))
    check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction), x * 30, probabilities,
          torch_fn=lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=reduction))


CONV_CASES = [dict(stride=1, padding=0), dict(stride=2, padding=1), dict(stride=(1, 2), padding=(2, 0))]


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d(backend, case):
    x, w, b = arrays((2, 3, 6, 5), (4, 3, 3, 2), (4,))
    check(lambda a, k, c: F.conv2d(a, k, c, **case), x, w, b,
          torch_fn=lambda a, k, c: TF.conv2d(a, k, c, **case), atol=1e-4)


def test_conv2d_of_an_empty_batch(backend):
    x = numpy.zeros((0, 3, 5, 5), "float32")
    (w,) = arrays((2, 3, 3, 3))
    check(lambda a, k: F.conv2d(a, k, padding=1), x, w, torch_fn=lambda a, k: TF.conv2d(a, k, padding=1))


POOL_CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=(2, 3), stride=(1, 2))]


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_pooling(backend, name, case):
    (x,) = arrays((2, 3, 6, 7))
    check(lambda a: getattr(F, name)(a, **case), x, torch_fn=lambda a: getattr(TF, name)(a, **case))


def test_max_pool2d_padding_is_minus_infinity(backend):
    x = -numpy.arange(10.0, 19.0, dtype="float32").reshape((1, 1, 3, 3))
    check(lambda a: F.max_pool2d(a, 2, stride=2, padding=1), x,
          torch_fn=lambda a: TF.max_pool2d(a, 2, stride=2, padding=1))


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool2d_ties_give_the_gradient_to_the_first_maximum(backend, case):
    x = numpy.round(arrays((1, 2, 5, 6))[0]).astype("float32")  # many ties, overlapping windows too
    check(lambda a: F.max_pool2d(a, **case), x, torch_fn=lambda a: TF.max_pool2d(a, **case))


def test_batch_norm_in_evaluation(backend):
    x, mean, var, w, b = arrays((4, 3, 2), (3,), (3,), (3,), (3,))
    var = numpy.abs(var) + 0.5
    check(lambda a, m, v, g, c: F.batch_norm(a, m.detach(), v.detach(), g, c, training=False), x, mean, var, w, b,
          torch_fn=lambda a, m, v, g, c: TF.batch_norm(a, m.detach(), v.detach(), g, c, training=False))


def test_batch_norm_in_training(backend):
    x, w, b = arrays((5, 3), (3,), (3,))
    check(lambda a, g, c: F.batch_norm(a, None, None, g, c, training=True), x, w, b,
          torch_fn=lambda a, g, c: TF.batch_norm(a, None, None, g, c, training=True), atol=1e-4)


def test_dropout_in_evaluation_is_the_identity(backend):
    (x,) = arrays((3, 4))
    check(lambda a: F.dropout(a, 0.5, training=False), x, torch_fn=lambda a: TF.dropout(a, 0.5, training=False))


def test_embedding_with_repeated_indices(backend):
    (w,) = arrays((5, 3))
    index = numpy.array([[0, 4], [4, 4]], "int64")
    check(lambda i, t: F.embedding(i, t), index, w, torch_fn=lambda i, t: TF.embedding(i, t))


def test_embedding_out_of_range_is_refused(backend):
    check_raises(lambda i, t: F.embedding(i, t), numpy.array([5]), arrays((5, 3))[0],
                 torch_fn=lambda i, t: TF.embedding(i, t), error=IndexError)


# ---- creation --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [1, 2.5, True], ids=str)
def test_full_infers_the_dtype_from_the_value(backend, value):
    assert md.full((2,), value).dtype.name == str(torch.full((2,), value).dtype).replace("torch.", "")


@pytest.mark.parametrize("data", [[1, 2], [1.0, 2], [True, False], 3, 2.5, [[1], [2]]], ids=str)
def test_tensor_infers_the_dtype_like_pytorch(backend, data):
    assert md.tensor(data).dtype.name == str(torch.tensor(data).dtype).replace("torch.", "")


@pytest.mark.parametrize("args", [(5,), (1, 4), (0.0, 1.0, 0.25), (3, 3)], ids=str)
def test_arange(backend, args):
    got, expected = md.arange(*args), torch.arange(*args)
    assert got.dtype.name == str(expected.dtype).replace("torch.", "")
    numpy.testing.assert_allclose(got.numpy(), expected.numpy())


def test_zeros_ones_eye_are_float32(backend):
    for made in (md.zeros((2,)), md.ones((2,)), md.eye(2)):
        assert made.dtype is md.float32


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_softmax_of_integers_is_refused(backend, name, dtype):
    check_raises(lambda t: getattr(F, name)(t), arrays((2, 3), dtype=dtype)[0],
                 torch_fn=lambda t: getattr(TF, name)(t, dim=-1), error=TypeError)


def test_matmul_of_bools_is_refused(backend):
    check_raises(lambda a: a @ a, numpy.ones((2, 2), bool), error=TypeError)
