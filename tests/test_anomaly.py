"""md.detect_anomaly(): off by default, and when on, stops at the first op that makes NaN or Inf."""

import inspect

import numpy as np
import pytest

import minidl as md
import minidl.nn.functional as F
from minidl.autograd.hooks import installed_hooks


def ieee_quiet():
    return np.errstate(divide="ignore", over="ignore", invalid="ignore")


def next_line():
    """The line number just after the caller's line: where the op under test is written."""
    return inspect.currentframe().f_back.f_lineno + 1


def test_off_by_default_and_free_when_off(backend):
    assert installed_hooks() == ()  # no hook: an op pays one ContextVar lookup, nothing more
    with ieee_quiet():
        y = md.log(md.tensor([0.0]))
    assert y.numpy()[0] == -np.inf
    with md.detect_anomaly():
        assert len(installed_hooks()) == 1
    assert installed_hooks() == ()


def test_forward_nan_or_inf_names_op_shapes_phase_and_user_line(backend):
    x = md.tensor([[0.0, 1.0]], requires_grad=True)
    with ieee_quiet(), pytest.raises(md.AnomalyError) as caught, md.detect_anomaly():
        line = next_line()
        md.log(x)
    error = caught.value
    assert (error.op, error.phase, error.inputs) == ("Log", "forward", [((1, 2), "float32")])
    assert error.origin.startswith(f"{__file__}:{line} in test_forward_nan_or_inf")
    message = str(error)
    assert "Log produced Inf in its forward pass" in message and "(1, 2) float32" in message
    assert f"test_anomaly.py:{line}" in message and "md.log(x)" in message


def test_backward_nan_or_inf_names_the_line_that_created_the_op(backend):
    x = md.tensor([0.0, 4.0], requires_grad=True)
    with ieee_quiet(), pytest.raises(md.AnomalyError) as caught, md.detect_anomaly():
        line = next_line()
        y = md.sqrt(x)  # finite forward; the derivative 1 / (2 sqrt(x)) is Inf at 0
        y.sum().backward()
    error = caught.value
    assert (error.op, error.phase) == ("Sqrt", "backward")
    assert f":{line} in " in error.origin
    assert "Sqrt produced Inf in its backward pass (in the gradient of input 0, shape (2,))" in str(error)


def test_stops_at_the_first_bad_op_not_where_the_nan_ends_up(backend):
    x = md.tensor([-1.0, 1.0], requires_grad=True)
    reached = []
    with ieee_quiet(), pytest.raises(md.AnomalyError, match="Sqrt produced NaN") as caught, md.detect_anomaly():
        y = md.sqrt(x) * 2.0 + 1.0  # sqrt(-1) is the first NaN; * and + only carry it on
        reached.append(y)
    assert caught.value.op == "Sqrt" and reached == []


def test_nan_from_zero_over_zero(backend):
    x = md.zeros(3, requires_grad=True)
    with ieee_quiet(), pytest.raises(md.AnomalyError, match="Divide produced NaN in its forward pass"):
        with md.detect_anomaly():
            x / x


def test_origin_is_the_users_line_even_when_the_op_runs_inside_minidl(backend):
    prediction = md.tensor([3e38, 1.0], requires_grad=True)  # float32: its square overflows
    with ieee_quiet(), pytest.raises(md.AnomalyError, match="Multiply produced Inf") as caught, md.detect_anomaly():
        line = next_line()
        F.mse_loss(prediction, md.zeros(2))
    assert caught.value.origin.startswith(f"{__file__}:{line}")
    assert "F.mse_loss(prediction, md.zeros(2))" in str(caught.value)


def helper_that_takes_a_log(t):
    return md.log(t)


def test_origin_inside_a_user_helper_names_the_helper(backend):
    with ieee_quiet(), pytest.raises(md.AnomalyError) as caught, md.detect_anomaly():
        helper_that_takes_a_log(md.zeros(1))
    assert "in helper_that_takes_a_log" in caught.value.origin


def test_backward_of_an_op_created_outside_says_so(backend):
    x = md.tensor([0.0], requires_grad=True)
    y = md.sqrt(x).sum()
    with ieee_quiet(), pytest.raises(md.AnomalyError, match="created outside md.detect_anomaly"):
        with md.detect_anomaly():
            y.backward()


def test_data_that_was_already_bad_is_pointed_out(backend):
    with pytest.raises(md.AnomalyError, match="input 0 already held NaN/Inf"), md.detect_anomaly():
        md.tensor([float("nan"), 1.0]) * 2.0


def test_finite_training_step_is_unchanged_by_anomaly_detection(backend):
    def step():  # integer indices and boolean masks pass through the checks too
        md.manual_seed(3)
        w = md.randn(4, 3, requires_grad=True)
        x, labels = md.randn(5, 3), md.tensor([0, 1, 2, 3, 0])
        hidden = F.relu(F.linear(x, w))[md.tensor([0, 0, 1, 2, 4])]
        loss = F.cross_entropy(md.where(hidden > 0.5, hidden, hidden * 0.1), labels)
        loss.backward()
        return loss.item(), w.grad.numpy()

    loss_off, grad_off = step()
    with md.detect_anomaly():
        loss_on, grad_on = step()
    assert loss_on == loss_off
    np.testing.assert_array_equal(grad_on, grad_off)


def test_second_order_gradients_work_under_anomaly_detection(backend):
    x = md.tensor([1.0, 2.0], requires_grad=True)
    with md.detect_anomaly():
        (x * x * x).sum().backward(create_graph=True)
        grad, x.grad = x.grad, None
        grad.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]  # d/dx of 3x^2


def test_nesting_installs_one_hook_and_leaving_restores_none(backend):
    with md.detect_anomaly(), md.detect_anomaly():
        assert len(installed_hooks()) == 1
    with pytest.raises(md.AnomalyError), ieee_quiet(), md.detect_anomaly():
        md.log(md.zeros(1))
    assert installed_hooks() == ()
