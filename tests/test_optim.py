"""Optimizers: each step against a hand-computed step of its published formula (PyTorch's conventions)."""

import math

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.optim as optim

W0 = np.array([1.0, -2.0, 0.5])
GRADS = [np.array([0.1, 0.2, -0.3]), np.array([-0.4, 0.05, 0.2]), np.array([0.3, -0.1, 0.0])]


def run(make_optimizer, steps=3):
    """Apply GRADS in turn to a float64 parameter; return its values after each step."""
    w = nn.Parameter(md.tensor(W0, dtype=md.float64))
    opt = make_optimizer([w])
    history = []
    for grad in GRADS[:steps]:
        w.grad = md.tensor(grad, dtype=md.float64)
        opt.step()
        history.append(w.numpy().copy())
    return history


def assert_steps(history, expected):
    for got, want in zip(history, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_sgd_plain(backend):
    expected, w = [], W0.copy()
    for g in GRADS:
        w = w - 0.1 * g
        expected.append(w)
    assert_steps(run(lambda p: optim.SGD(p, lr=0.1)), expected)


def test_sgd_weight_decay_adds_l2_gradient(backend):
    expected, w = [], W0.copy()
    for g in GRADS:
        w = w - 0.1 * (g + 0.01 * w)
        expected.append(w)
    assert_steps(run(lambda p: optim.SGD(p, lr=0.1, weight_decay=0.01)), expected)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_and_nesterov(backend, nesterov):
    expected, w, buffer = [], W0.copy(), None
    for g in GRADS:
        g = g + 0.001 * w
        buffer = g if buffer is None else 0.9 * buffer + g
        w = w - 0.05 * (g + 0.9 * buffer if nesterov else buffer)
        expected.append(w)
    history = run(lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.001, nesterov=nesterov))
    assert_steps(history, expected)


def test_sgd_dampening_scales_new_gradients():
    expected, w, buffer = [], W0.copy(), None
    for g in GRADS:
        buffer = g if buffer is None else 0.9 * buffer + (1 - 0.5) * g
        w = w - 0.1 * buffer
        expected.append(w)
    assert_steps(run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5)), expected)


def adam_reference(lr, betas, eps, weight_decay, decoupled):
    expected, w = [], W0.copy()
    m, v = np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        expected.append(w)
    return expected


def test_adam(backend):
    history = run(lambda p: optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6))
    assert_steps(history, adam_reference(0.01, (0.8, 0.99), 1e-6, 0.0, decoupled=False))


def test_adam_weight_decay_is_an_l2_gradient(backend):
    history = run(lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1))
    assert_steps(history, adam_reference(0.01, (0.9, 0.999), 1e-8, 0.1, decoupled=False))


def test_adamw_decays_the_weight_directly(backend):
    history = run(lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1))
    assert_steps(history, adam_reference(0.01, (0.9, 0.999), 1e-8, 0.1, decoupled=True))


@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_in_place_update_is_the_plain_formula_to_the_bit(decoupled):
    """The update changes its temporaries in place; the numbers are those of the plain form, bit for bit."""
    rng = np.random.default_rng(3)
    start = rng.standard_normal((5, 4)).astype(np.float32)
    grads = [rng.standard_normal((5, 4)).astype(np.float32) for _ in range(5)]
    lr, (beta1, beta2), eps, decay = 0.01, (0.8, 0.99), 1e-6, 0.1
    weight = nn.Parameter(md.tensor(start))
    opt = (optim.AdamW if decoupled else optim.Adam)([weight], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=decay)
    p, m, v = start.copy(), np.zeros_like(start), np.zeros_like(start)
    for t, g in enumerate(grads, start=1):
        weight.grad = md.tensor(g)
        opt.step()
        if decoupled:
            p *= 1.0 - lr * decay
        else:
            g = g + decay * p
        m = beta1 * m + (1.0 - beta1) * g           # the plain form: a new array for every term
        v = beta2 * v + (1.0 - beta2) * (g * g)
        root_correction2 = (1.0 - beta2 ** t) ** 0.5
        p -= lr * root_correction2 / (1.0 - beta1 ** t) * (m / (np.sqrt(v) + eps * root_correction2))
        np.testing.assert_array_equal(weight.numpy(), p)


def test_adamw_default_weight_decay_is_one_hundredth():
    assert optim.AdamW([nn.Parameter(md.zeros((1,)))]).param_groups[0]["weight_decay"] == 0.01


def test_float32_parameters_stay_float32_on_step(backend):
    w = nn.Parameter(md.ones((3,)))
    opt = optim.Adam([w], lr=0.1, weight_decay=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.dtype == md.float32 and opt.state[w]["exp_avg"].dtype == w.data.dtype


def test_parameters_without_gradient_are_skipped():
    w, frozen = nn.Parameter(md.ones((2,))), nn.Parameter(md.ones((2,)))
    opt = optim.SGD([w, frozen], lr=1.0, momentum=0.9)
    (w * 2.0).sum().backward()
    opt.step()
    assert frozen.tolist() == [1.0, 1.0] and w.tolist() == [-1.0, -1.0]


def test_zero_grad_clears_gradients():
    w = nn.Parameter(md.ones((2,)))
    opt = optim.SGD([w], lr=0.1)
    w.sum().backward()
    opt.zero_grad()
    assert w.grad is None


def test_empty_parameter_list_gives_a_clear_error():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam(nn.ReLU().parameters())


def test_non_leaf_or_non_tensor_parameters_are_refused():
    w = nn.Parameter(md.ones((2,)))
    with pytest.raises(ValueError, match="not a leaf requiring grad"):
        optim.SGD([w * 2.0], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)


def test_parameter_groups_have_their_own_learning_rate():
    a, b = nn.Parameter(md.ones((1,))), nn.Parameter(md.ones((1,)))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = md.ones((1,)), md.ones((1,))
    opt.step()
    assert a.tolist() == pytest.approx([0.9]) and b.tolist() == pytest.approx([0.5])


def test_optimizer_state_dict_round_trip_continues_identically():
    first = run(lambda p: optim.Adam(p, lr=0.01), steps=3)[-1]
    w = nn.Parameter(md.tensor(W0, dtype=md.float64))
    opt = optim.Adam([w], lr=0.01)
    for g in GRADS[:2]:
        w.grad = md.tensor(g, dtype=md.float64)
        opt.step()
    resumed = optim.Adam([w], lr=0.5)
    resumed.load_state_dict(opt.state_dict())
    assert resumed.param_groups[0]["lr"] == 0.01
    w.grad = md.tensor(GRADS[2], dtype=md.float64)
    resumed.step()
    np.testing.assert_allclose(w.numpy(), first, rtol=1e-12)


def test_optimizer_state_follows_a_model_moved_to_another_backend():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(md.ones((4, 3))).sum().backward()
    opt.step()
    model.to("array_api_strict")
    opt.zero_grad()
    model(md.ones((4, 3), backend="array_api_strict")).sum().backward()
    opt.step()
    assert opt.state[model.weight]["backend"] == "array_api_strict"


def test_sgd_trains_a_linear_regression(backend):
    md.manual_seed(0)
    x = md.randn(64, 3)
    true_weight = md.tensor([[1.5, -2.0, 0.5]])
    y = x @ true_weight.T + 0.3
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(300):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2.0).mean()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(model.weight.numpy(), true_weight.numpy(), atol=1e-3)
    assert model.bias.item() == pytest.approx(0.3, abs=1e-3)


# ---- learning-rate schedules -------------------------------------------------------------------
def make_sgd(lr=1.0):
    return optim.SGD([nn.Parameter(md.zeros((1,)))], lr=lr)


def rates(scheduler, epochs):
    result = []
    for _ in range(epochs):
        result.append(scheduler.get_last_lr()[0])
        scheduler.step()
    return result


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    scheduler = optim.lr_scheduler.StepLR(make_sgd(0.5), step_size=3, gamma=0.1)
    assert rates(scheduler, 7) == pytest.approx([0.5, 0.5, 0.5, 0.05, 0.05, 0.05, 0.005])


def test_cosine_annealing_follows_half_a_cosine():
    scheduler = optim.lr_scheduler.CosineAnnealingLR(make_sgd(1.0), T_max=4, eta_min=0.1)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    assert rates(scheduler, 5) == pytest.approx(expected)
    assert expected[-1] == pytest.approx(0.1)


def test_scheduler_state_dict_resumes_the_schedule():
    opt = make_sgd(1.0)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    scheduler.step()
    scheduler.step()
    resumed = optim.lr_scheduler.StepLR(make_sgd(1.0), step_size=1, gamma=0.5)
    resumed.load_state_dict(scheduler.state_dict())
    assert resumed.get_last_lr() == scheduler.get_last_lr() == [0.25]


def test_scheduler_arguments_are_checked():
    with pytest.raises(ValueError, match="step_size"):
        optim.lr_scheduler.StepLR(make_sgd(), step_size=0)
    with pytest.raises(TypeError, match="minidl optimizer"):
        optim.lr_scheduler.CosineAnnealingLR(object(), T_max=3)


def test_zero_grad_sets_none_and_the_old_gradients_live_only_until_step(backend):
    import gc
    import weakref

    w = nn.Parameter(md.tensor([1.0, 2.0]))
    optimizer = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    old = weakref.ref(w.grad)
    optimizer.zero_grad()
    gc.collect()
    assert w.grad is None and old() is not None  # held through the next forward and backward
    (w * w).sum().backward()
    optimizer.step()
    gc.collect()
    assert old() is None  # step() let the replaced gradients go
    assert [round(v, 6) for v in w.tolist()] == [0.8, 1.6]
    newer = weakref.ref(w.grad)
    optimizer.zero_grad()
    optimizer.zero_grad()  # a second call holds only what it replaced itself: nothing
    gc.collect()
    assert newer() is None
