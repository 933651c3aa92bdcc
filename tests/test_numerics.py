"""Numerical edge cases: huge logits, log(0), x/0, overflow, ties, empty batches.

Each test states what minidl promises at the edge: a finite answer where the
mathematics has one (softmax at 1e4), the IEEE answer where it does not
(log(0) is -inf, as the Array API standard says), and a clear error where
the question has no answer (the mean of an empty batch).
"""

import contextlib
import warnings

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F

HUGE = [[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]]
LABELS = [1, 0, 2]


def ieee_quiet():
    """Silence NumPy's divide/overflow/invalid warnings where an Inf or NaN is the expected answer."""
    return np.errstate(divide="ignore", over="ignore", invalid="ignore")


@contextlib.contextmanager
def no_overflow_anywhere():
    """Fail if any step computes an overflow or an invalid value on the way (NumPy would warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def assert_finite(tensor):
    assert np.isfinite(tensor.numpy()).all(), tensor


# ---- huge logits ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [md.float32, md.float64], ids=["float32", "float64"])
def test_softmax_at_huge_logits_is_finite_with_finite_gradient(backend, dtype):
    x = md.tensor(HUGE, dtype=dtype, requires_grad=True)
    with no_overflow_anywhere():
        y = F.softmax(x)
        (y * md.tensor([[1.0, 2.0, 3.0]] * 3, dtype=dtype)).sum().backward()
    np.testing.assert_allclose(y.numpy(), [[1, 0, 0], [1 / 3] * 3, [0.5, 0.5, 0]], rtol=1e-6)
    assert_finite(x.grad)
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 0], [-1 / 3, 0, 1 / 3], [-0.25, 0.25, 0]], atol=1e-6)


@pytest.mark.parametrize("dtype", [md.float32, md.float64], ids=["float32", "float64"])
def test_log_softmax_at_huge_logits_is_finite_with_finite_gradient(backend, dtype):
    x = md.tensor(HUGE, dtype=dtype, requires_grad=True)
    with no_overflow_anywhere():
        y = F.log_softmax(x)
        y.sum().backward()
    np.testing.assert_allclose(y.numpy()[0], [0.0, -2e4, -1e4])
    np.testing.assert_allclose(y.numpy()[1], [-np.log(3)] * 3, rtol=1e-6)
    assert_finite(x.grad)
    np.testing.assert_allclose(x.grad.numpy()[0], [-2.0, 1.0, 1.0], atol=1e-6)  # 1 - 3 * softmax


@pytest.mark.parametrize("dtype", [md.float32, md.float64], ids=["float32", "float64"])
def test_cross_entropy_at_huge_logits_is_finite_with_finite_gradient(backend, dtype):
    x = md.tensor(HUGE, dtype=dtype, requires_grad=True)
    with no_overflow_anywhere():
        loss = F.cross_entropy(x, md.tensor(LABELS))
        loss.backward()
    # Row 0 picks a logit 2e4 below the winner; row 1 is uniform; row 2 picks a logit 2e4 below a tie.
    expected = (2e4 + np.log(3) + 2e4 + np.log(2)) / 3
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    assert_finite(x.grad)
    softmax = np.array([[1, 0, 0], [1 / 3] * 3, [0.5, 0.5, 0]])
    np.testing.assert_allclose(x.grad.numpy(), (softmax - np.eye(3)[LABELS]) / 3, atol=1e-6)


def test_sigmoid_at_huge_inputs_saturates_without_overflow(backend):
    x = md.tensor([1e4, -1e4, 0.0], requires_grad=True)
    with no_overflow_anywhere():
        y = md.sigmoid(x)
        y.sum().backward()
    assert y.tolist() == [1.0, 0.0, 0.5]
    assert x.grad.tolist() == [0.0, 0.0, 0.25]


def test_binary_cross_entropy_with_logits_at_huge_inputs_is_exact(backend):
    logits = md.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    target = md.tensor([1.0, 0.0, 0.0, 1.0])
    with no_overflow_anywhere():
        loss = F.binary_cross_entropy_with_logits(logits, target, reduction="sum")
        loss.backward()
    assert loss.item() == 2e4  # two confident right answers cost 0, two confident wrong ones 1e4 each
    assert logits.grad.tolist() == [0.0, 0.0, 1.0, -1.0]


# ---- IEEE answers: log(0), x / 0, overflow ------------------------------------------------------
def test_log_of_zero_is_minus_infinity_and_its_gradient_plus_infinity(backend):
    x = md.tensor([0.0, 1.0, -1.0], requires_grad=True)
    with ieee_quiet():
        y = md.log(x)
        y.sum().backward()
    assert y.numpy()[0] == -np.inf and y.numpy()[1] == 0.0 and np.isnan(y.numpy()[2])
    assert x.grad.numpy()[0] == np.inf and x.grad.tolist()[1:] == [1.0, -1.0]


def test_division_by_zero_follows_ieee(backend):
    a = md.tensor([1.0, -1.0, 0.0], requires_grad=True)
    b = md.tensor([0.0, 0.0, 0.0], requires_grad=True)
    with ieee_quiet():
        y = a / b
        y.sum().backward()
    assert y.numpy()[0] == np.inf and y.numpy()[1] == -np.inf and np.isnan(y.numpy()[2])
    assert (a.grad.numpy() == np.inf).all()  # d(a/b)/da = 1/b
    assert b.grad.numpy()[0] == -np.inf and b.grad.numpy()[1] == np.inf  # -a/b**2
    assert np.isnan(b.grad.numpy()[2])


def test_exp_overflows_to_infinity_in_float32_but_not_float64(backend):
    x32 = md.tensor([89.0, 1.0], requires_grad=True)  # float32 holds up to about exp(88.7)
    with ieee_quiet():
        y = md.exp(x32)
        y.sum().backward()
    assert y.numpy()[0] == np.inf and x32.grad.numpy()[0] == np.inf
    assert np.isfinite(md.exp(md.tensor([89.0], dtype=md.float64)).numpy()).all()


def test_detect_anomaly_catches_exp_overflow_in_float32(backend):
    x = md.tensor([89.0, 1.0], requires_grad=True)
    with ieee_quiet(), pytest.raises(md.AnomalyError, match="Exp produced Inf in its forward pass") as caught:
        with md.detect_anomaly():
            md.exp(x)
    assert caught.value.inputs == [((2,), "float32")]


# ---- ties ----------------------------------------------------------------------------------------
def test_max_and_min_split_the_gradient_evenly_between_ties(backend):
    x = md.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, 5.0, 1.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3] * 3, [0, 1, 0]], rtol=1e-6)
    x.grad = None
    x.min(axis=-1, keepdims=True).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1, 0, 0], [1 / 3] * 3, [1, 0, 0]], rtol=1e-6)


def test_max_over_all_axes_splits_between_ties_anywhere(backend):
    x = md.tensor([[4.0, 1.0], [4.0, 4.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1 / 3, 0], [1 / 3, 1 / 3]], rtol=1e-6)


def test_maximum_and_minimum_give_half_the_gradient_to_each_side_at_ties(backend):
    a = md.tensor([1.0, 2.0, 5.0], requires_grad=True)
    b = md.tensor([1.0, 3.0, 4.0], requires_grad=True)
    md.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0] and b.grad.tolist() == [0.5, 1.0, 0.0]
    a.grad = b.grad = None
    md.minimum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0, 0.0] and b.grad.tolist() == [0.5, 0.0, 1.0]


def test_maximum_tie_with_a_broadcast_operand_sums_its_halves(backend):
    x = md.tensor([0.0, 0.0, 2.0], requires_grad=True)
    floor = md.tensor(0.0, requires_grad=True)
    md.maximum(x, floor).sum().backward()
    assert x.grad.tolist() == [0.5, 0.5, 1.0]
    assert floor.grad.item() == 1.0  # two halves from the two tied entries


def test_relu_and_abs_have_zero_gradient_at_zero(backend):
    x = md.tensor([0.0, 0.0], requires_grad=True)
    (md.relu(x[0]) + md.abs(x[1])).backward()
    assert x.grad.tolist() == [0.0, 0.0]


# ---- empty batches -------------------------------------------------------------------------------
def test_sum_of_an_empty_tensor_is_zero_with_a_zero_gradient(backend):
    x = md.zeros((0, 3), requires_grad=True)
    total = x.sum()
    total.backward()
    assert total.item() == 0.0 and x.grad.shape == (0, 3)
    assert md.sum(md.zeros((0, 3)), axis=0).tolist() == [0.0, 0.0, 0.0]


def test_mean_over_an_empty_axis_is_an_error_not_nan(backend):
    for call in (lambda: md.zeros((0, 3)).mean(), lambda: md.zeros((0, 3)).mean(axis=0)):
        with pytest.raises(ValueError, match=r"mean of an empty tensor \(shape \(0, 3\)\)"):
            call()
    assert md.zeros((0, 3)).mean(axis=1).shape == (0,)  # nothing empty is averaged


def test_max_and_min_of_an_empty_tensor_are_errors(backend):
    for op in (md.max, md.min):
        with pytest.raises(ValueError, match="empty tensor"):
            op(md.zeros((0, 4)), axis=0)


@pytest.mark.parametrize("loss", [
    lambda logits: F.cross_entropy(logits, md.zeros((0,), dtype=md.int64)),
    lambda logits: F.mse_loss(logits, md.zeros((0, 3))),
    lambda logits: F.binary_cross_entropy_with_logits(logits, md.zeros((0, 3))),
], ids=["cross_entropy", "mse_loss", "binary_cross_entropy_with_logits"])
def test_mean_losses_of_an_empty_batch_are_clear_errors(backend, loss):
    with pytest.raises(ValueError, match="empty"):
        loss(md.zeros((0, 3), requires_grad=True))


def test_sum_losses_of_an_empty_batch_are_zero(backend):
    logits = md.zeros((0, 3), requires_grad=True)
    assert F.mse_loss(logits, md.zeros((0, 3)), reduction="sum").item() == 0.0
    assert F.binary_cross_entropy_with_logits(logits, md.zeros((0, 3)), reduction="sum").item() == 0.0


def test_layers_pass_an_empty_batch_through(backend):
    weight = md.ones((2, 3), requires_grad=True)
    out = F.softmax(F.linear(md.zeros((0, 3)), weight, md.ones(2)))
    assert out.shape == (0, 2)
    out.sum().backward()
    assert weight.grad.tolist() == [[0.0] * 3] * 2
