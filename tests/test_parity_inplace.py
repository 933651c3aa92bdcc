"""In place as in PyTorch: +=, t[key] = v, add_/zero_/..., .data, version counters, and their errors."""

from __future__ import annotations

import numpy
import pytest

import minidl as md
import minidl.nn as nn
from parity import arrays, check, torch


def _train_with(update, backend_name):
    """Fit y = 2x with one weight by a hand-written SGD step; returns the weight after 20 steps."""
    x = md.tensor([[1.0], [2.0], [3.0]])
    w = md.zeros((1, 1), requires_grad=True)
    for _ in range(20):
        loss = ((x @ w - 2 * x) ** 2).mean()
        loss.backward()
        update(w)
        w.grad = None
    return w


def test_no_grad_minus_equals_updates_the_parameter_itself(backend):
    def step(w):
        with md.no_grad():
            w -= 0.1 * w.grad
    w = _train_with(step, backend)
    assert w.requires_grad and w.is_leaf
    assert abs(w.item() - 2.0) < 1e-3


def test_data_plus_equals_a_tensor_stores_an_array(backend):
    def step(w):
        w.data = w - 0.1 * w.grad  # a Tensor assigned to .data: its array is stored
    w = _train_with(step, backend)
    assert not isinstance(w.data, md.Tensor)
    assert abs(w.item() - 2.0) < 1e-3


def test_data_plus_equals_on_numpy(backend):
    if backend != "numpy":
        pytest.skip("array-api-strict arrays refuse a Tensor operand in += with a TypeError (documented)")
    w = md.ones((2,), requires_grad=True)
    w.data += -0.5 * md.ones((2,))
    assert type(w.data).__module__ == "numpy" and w.tolist() == [0.5, 0.5]


def test_data_refuses_an_array_of_another_backend(backend):
    w = md.ones((2,))
    with pytest.raises(TypeError, match="must be an array of that backend"):
        w.data = [1.0, 2.0]


def test_model_parameters_train_with_the_tutorial_loop(backend):
    md.manual_seed(0)
    model = nn.Linear(3, 1)
    before = [p for p in model.parameters()]
    x = md.randn(16, 3)
    y = x.sum(axis=1, keepdims=True)
    first = None
    for _ in range(50):
        loss = ((model(x) - y) ** 2).mean()
        first = first if first is not None else loss.item()
        model.zero_grad()
        loss.backward()
        with md.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert [p for p in model.parameters()] == before
    assert loss.item() < first / 100


def test_in_place_on_a_leaf_that_requires_grad_is_refused(backend):
    w = md.ones((2,), requires_grad=True)
    for change in (lambda: w.__iadd__(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            change()
    tw = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tw += 1


def test_changing_a_saved_input_under_no_grad_raises_at_backward(backend):
    a = md.tensor([1.0, 2.0], requires_grad=True)
    h = a * 2
    z = h * h
    with md.no_grad():
        h += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation: input 0 of Multiply"):
        z.sum().backward()
    ta = torch.tensor([1.0, 2.0], requires_grad=True)
    th = ta * 2
    tz = th * th
    with torch.no_grad():
        th += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tz.sum().backward()


def test_a_recorded_change_of_a_used_input_keeps_the_old_value_for_its_op(backend):
    # PyTorch refuses this one; minidl recorded the change, kept the old h for Multiply, and differentiates
    # the graph as it ran: z = (2a)^2, so dz/da = 8a
    a = md.tensor([1.0, 2.0], requires_grad=True)
    h = a * 2
    z = h * h
    h += 1
    (z.sum() + h.sum()).backward()
    assert a.grad.tolist() == [8.0 + 2.0, 16.0 + 2.0]


def test_changing_a_saved_output_under_no_grad_raises_at_backward(backend):
    a = md.tensor([1.0, 2.0], requires_grad=True)
    y = a.exp()
    with md.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="its output of Exp"):
        y.sum().backward()


def test_in_place_on_an_intermediate_records_the_op(backend):
    # ResNet's `out += identity`, and an output changed in place after the op that made it
    x = numpy.array([0.5, -1.0, 2.0], "float32")

    def block(t):
        out = t * 3
        out += t
        out *= t
        out -= 1
        out /= 2
        return out

    check(block, x)


def test_exp_output_changed_in_place_gives_the_right_gradient(backend):
    # PyTorch refuses this (exp saves its output); minidl keeps the old value for exp's backward: the same answer
    a = md.tensor([1.0, 2.0], requires_grad=True)
    y = a.exp()
    y += 1
    y.sum().backward()
    numpy.testing.assert_allclose(a.grad.numpy(), numpy.exp([1.0, 2.0]), rtol=1e-6)


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_"])
def test_method_forms(backend, name):
    a, b = arrays((3, 4), (4,))
    check(lambda x, y: getattr(x * 1, name)(y), a, b)


def test_add_with_alpha(backend):
    a, b = arrays((3,), (3,))
    check(lambda x, y: (x * 1).add_(y, alpha=2.0), a, b, torch_fn=lambda x, y: (x * 1).add_(y, alpha=2.0))


def test_clamp_zero_fill_copy(backend):
    (a,) = arrays((5,))
    check(lambda x: (x * 1).clamp_(-0.5, 0.5), a)
    check(lambda x: (x * 1).zero_() + x, a)
    check(lambda x: (x * 1).fill_(3.0) * x, a)
    b = arrays((5,), seed=1)[0]
    check(lambda x, y: (x * 1).copy_(y) * x, a, b)


def test_in_place_keeps_the_tensor_object_and_dtype(backend):
    t = md.zeros((3,), dtype=md.int32)
    same = t
    t += 2
    t *= md.tensor([1, 2, 3], dtype=md.int64)  # int64 result cast back to int32, as PyTorch does
    assert t is same and t.dtype is md.int32 and t.tolist() == [2, 4, 6]
    assert t._version == 2


def test_in_place_refuses_a_float_result_in_an_int_tensor(backend):
    t = md.zeros((3,), dtype=md.int64)
    with pytest.raises(RuntimeError, match="can't be cast"):
        t += 0.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.zeros(3, dtype=torch.int64).__iadd__(0.5)


def test_in_place_refuses_a_broadcast_that_grows_the_tensor(backend):
    with pytest.raises(RuntimeError, match="cannot change the shape"):
        t = md.zeros((3,))
        t += md.ones((2, 3))


SETITEM_KEYS = {"int": 1, "slice": slice(0, 2), "tuple": (slice(None), 2), "ellipsis": (Ellipsis, 0),
                "out of range slice": slice(1, 100), "negative": -1}


@pytest.mark.parametrize("name", sorted(SETITEM_KEYS))
def test_setitem(backend, name):
    key = SETITEM_KEYS[name]
    x, v = arrays((3, 4), (4,))

    def write(t, value):
        out = t * 1
        out[key] = value[:out[key].shape[-1]] if out[key].ndim else value[0]
        return out * t

    check(write, x, v)


def test_setitem_with_a_bool_mask(backend):
    (x,) = arrays((6,))

    def write(t):
        out = t * 1
        out[t > 0] = 0.0
        return out

    check(write, x)


def test_setitem_plus_equals_writes_into_the_original(backend):
    x = md.zeros((2, 3))
    x[0] += 1
    x[:, 1] += md.tensor([5.0, 7.0])
    assert x.tolist() == [[1.0, 6.0, 1.0], [0.0, 7.0, 0.0]]


def test_setitem_casts_the_value_to_the_tensor_dtype(backend):
    t = md.zeros((3,), dtype=md.int64)
    t[1] = 2.7
    tt = torch.zeros(3, dtype=torch.int64)
    tt[1] = 2.7
    assert t.tolist() == tt.tolist()


def test_a_slice_changed_in_place_changes_its_source(backend):
    # A slice is a view, as in PyTorch (minidl.ops.views; more in test_parity_views.py).
    x = md.zeros((3,))
    view = x[0:2]
    view += 1
    assert x.tolist() == [1.0, 1.0, 0.0]


def test_optimizer_step_after_in_place_still_trains(backend):
    w = nn.Parameter(md.tensor([1.0, 2.0]))
    opt = md.optim.SGD([w], lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    for _ in range(3):
        topt.zero_grad()
        (tw * tw).sum().backward()
        topt.step()
    numpy.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-6)


# ---- custom Functions and gradcheck ------------------------------------------------------------

class Double(md.Function):
    def forward(self, x):
        return 2 * x

    def backward(self, grad, x):
        return grad * 2  # one Tensor, not a tuple: fine for a one-input op


class WrongShape(md.Function):
    def forward(self, x):
        return 2 * x

    def backward(self, grad, x):
        return grad[:1]  # shape (1,) for a (3,) input


def test_custom_function_returning_one_gradient(backend):
    assert md.gradcheck(lambda t: Double.apply(t), [md.randn(3, dtype=md.float64)])


def test_gradcheck_refuses_a_wrong_shaped_analytic_gradient(backend):
    with pytest.raises(md.GradcheckError, match=r"shape \(1,\)"):
        md.gradcheck(lambda t: WrongShape.apply(t), [md.randn(3, dtype=md.float64)])


def test_setitem_plus_equals_inside_a_graph(backend):
    (x,) = arrays((3, 4))

    def write(t):
        h = t * 1
        h[0] += h[1] * 2
        h[:, -1] *= 3
        return h * t

    check(write, x)


def test_in_place_under_no_grad_on_an_intermediate_keeps_its_history_like_pytorch(backend):
    (x,) = arrays((3,))

    def change(t):
        h = t * 2
        with md.no_grad() if isinstance(t, md.Tensor) else torch.no_grad():
            h += 1
        return h * 3     # Multiply by a constant never needs h's old value: the gradient still flows to t

    check(change, x)


def test_functional_setitem_inside_a_graph(backend):
    from minidl.ops import setitem
    (x,) = arrays((3, 4))

    def write_md(t):
        h = t * 1
        h = setitem(h, 0, h[0] + h[1] * 2)
        return h * t

    def write_torch(t):
        h = t * 1
        h[0] += h[1] * 2
        return h * t

    check(write_md, x, torch_fn=write_torch)


def test_backward_through_a_graph_after_an_optimizer_step_raises_like_pytorch(backend):
    w = nn.Parameter(md.tensor([1.0, 2.0]))
    opt = md.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.1)
    tloss = (tw * tw).sum()
    tloss.backward(retain_graph=True)
    topt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tloss.backward()
