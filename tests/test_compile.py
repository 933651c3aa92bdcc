"""md.compile: a traced-and-replayed step gives the eager numbers, or a clear error."""

from __future__ import annotations

import numpy
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim


def model_and_step(momentum=0.0, zero_grad=True, lr=0.1):
    """A 6-5-4-3 ReLU MLP, an SGD optimizer and one training step for it."""
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    def step(x, y):
        if zero_grad:
            optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return model, optimizer, step


def batch(size=7, classes=3, seed=1):
    md.manual_seed(seed)
    return md.randn(size, 6), md.tensor([i % classes for i in range(size)])


def test_compiled_steps_give_the_eager_numbers(backend):
    x, y = batch()
    eager_model, _, eager_step = model_and_step()
    compiled_model, _, step = model_and_step()
    compiled = md.compile(step)
    for _ in range(5):  # eager, traced, then replayed three times
        expected, got = eager_step(x, y).item(), compiled(x, y).item()
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-7)
    for (name, p), q in zip(eager_model.named_parameters(), compiled_model.parameters()):
        numpy.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-6, atol=1e-7, err_msg=name)
        numpy.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6, atol=1e-7, err_msg=name)


def test_replays_follow_new_batches(backend):
    _, _, eager_step = model_and_step()
    _, _, step = model_and_step()
    compiled = md.compile(step)
    for seed in range(4):
        x, y = batch(seed=seed)
        assert compiled(x, y).item() == pytest.approx(eager_step(x, y).item(), rel=1e-6, abs=1e-7)


def test_a_replay_returns_detached_tensors_of_the_same_structure(backend):
    _, _, step = model_and_step()
    compiled = md.compile(lambda x, y: {"loss": step(x, y), "nothing": None})
    x, y = batch()
    for _ in range(3):
        out = compiled(x, y)
    assert set(out) == {"loss", "nothing"} and out["nothing"] is None
    assert out["loss"].shape == () and not out["loss"].requires_grad and out["loss"].backend == backend


def test_the_program_is_straight_line_python(backend):
    _, _, step = model_and_step()
    compiled = md.compile(step)
    assert compiled.source is None
    x, y = batch()
    compiled(x, y), compiled(x, y)
    source = compiled.source
    assert source.startswith("def replay(") and "matmul(" in source and "return (" in source
    assert "Tensor" not in source  # no autograd left: only array operations
    assert compiled.program.instruction_count > 10


def test_another_input_shape_is_an_error_naming_both_shapes(backend):
    _, _, step = model_and_step()
    compiled = md.compile(step)
    x, y = batch(size=7)
    compiled(x, y), compiled(x, y)
    with pytest.raises(md.CompileError, match=r"argument 0 .*shape \(7, 6\).*shape \(5, 6\)"):
        compiled(*batch(size=5))


def test_another_dtype_is_an_error(backend):
    _, _, step = model_and_step()
    compiled = md.compile(lambda x: (x * 2.0).sum())
    x = md.ones((3,))
    compiled(x), compiled(x)
    with pytest.raises(md.CompileError, match="float32 tensor.*float64 tensor"):
        compiled(md.ones((3,), dtype=md.float64))


def test_a_changed_python_argument_is_an_error(backend):
    compiled = md.compile(lambda x, scale: (x * scale).sum())
    x = md.ones((3,))
    compiled(x, 2.0), compiled(x, 2.0)
    assert compiled(x, 2.0).item() == 6.0
    with pytest.raises(md.CompileError, match="the value 2.0 .* the value 3.0"):
        compiled(x, 3.0)


def test_a_value_read_that_changes_at_replay_is_an_error(backend):
    # cross_entropy checks the labels by reading a count into Python: a guard of the trace.
    _, _, step = model_and_step()
    compiled = md.compile(step)
    x, y = batch()
    compiled(x, y), compiled(x, y)
    bad = md.tensor([0, 1, 2, 3, 0, 1, 2])  # label 3 of 3 classes
    with pytest.raises(md.CompileError, match="read a value into Python.*was 7 then and is 6 now"):
        compiled(x, bad)


def test_branching_on_a_tensor_value_is_refused_at_the_trace(backend):
    def step(x):
        return x * 2.0 if (x.sum() > 0) else x * 3.0

    compiled = md.compile(step)
    compiled(md.ones((2,)))
    with pytest.raises(md.CompileError, match="value on the host"):
        compiled(md.ones((2,)))


def test_state_kept_between_steps_is_refused(backend):
    _, _, step = model_and_step(momentum=0.9)
    compiled = md.compile(step)
    x, y = batch()
    compiled(x, y)
    with pytest.raises(md.CompileError, match="momentum"):  # found holding a traced array, or mixing one in
        compiled(x, y)


def test_gradients_summed_over_calls_are_refused(backend):
    _, _, step = model_and_step(zero_grad=False)
    compiled = md.compile(step)
    x, y = batch()
    compiled(x, y)
    with pytest.raises(md.CompileError, match="adds to a gradient left by an earlier call.*zero_grad"):
        compiled(x, y)


def test_random_numbers_in_the_step_are_refused(backend):
    compiled = md.compile(lambda x: F.dropout(x, 0.5).sum())
    x = md.ones((4,))
    compiled(x)
    with pytest.raises(md.CompileError, match="random numbers"):
        compiled(x)


def test_returning_a_python_number_is_refused(backend):
    compiled = md.compile(lambda x: 3.0)
    compiled(md.ones((2,)))
    with pytest.raises(md.CompileError, match="must return Tensors"):
        compiled(md.ones((2,)))


def test_reset_traces_again_with_a_new_learning_rate(backend):
    _, optimizer, step = model_and_step(lr=0.1)
    _, eager_optimizer, eager_step = model_and_step(lr=0.1)
    compiled = md.compile(step)
    x, y = batch()
    for _ in range(3):
        compiled(x, y), eager_step(x, y)
    for group in optimizer.param_groups + eager_optimizer.param_groups:
        group["lr"] = 0.5
    compiled.reset()
    for _ in range(3):
        assert compiled(x, y).item() == pytest.approx(eager_step(x, y).item(), rel=1e-6, abs=1e-7)


def test_keyword_arguments_are_refused(backend):
    with pytest.raises(TypeError, match="positional"):
        md.compile(lambda x: x)(x=md.ones((1,)))


def test_an_argument_that_requires_grad_is_refused(backend):
    compiled = md.compile(lambda x: (x * x).sum())
    with pytest.raises(md.CompileError, match="do not require grad.*detach"):
        compiled(md.ones((2,), requires_grad=True))
