"""md.compile on a CUDA graph keeps the arithmetic on optimizer settings on the host (minidl.compile.host_scalars).

A graph reads device memory only, so a step's settings and step counts must
reach it as arrays; the arithmetic on them (Adam's bias corrections) runs in
Python before each launch, as in the eager step. These tests replay through
a real CUDA graph on CuPy with a GPU, and through the stand-in graph of
tests/test_compile.py elsewhere; they ask for the eager bits, and for clear
errors where a graph cannot follow the eager step.
"""

from __future__ import annotations

import numpy
import pytest

import minidl as md
import minidl.nn as nn
import minidl.optim as optim
from test_compile_state import OPTIMIZERS, assert_same_optimizer_state, assert_same_state, batches, setup, train
from test_compile_state import stand_in_graph  # noqa: F401 - the fixture `graphs` falls back to

# a CUDA graph's buffers are written in place (CuPy); the stand-in does the same
pytestmark = [pytest.mark.needs("eager"), pytest.mark.needs("writeable")]


@pytest.fixture
def graphs(backend, request):
    """A real CUDA graph on CuPy with a GPU; elsewhere the stand-in (tests/test_compile_state.py)."""
    from minidl.compile.graph_replay import supports_graphs

    if not supports_graphs(backend):
        request.getfixturevalue("stand_in_graph")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_through_a_graph_gives_the_eager_bits(backend, graphs, name):
    """With clipping too, which computes on the device in both."""
    data = batches()
    eager_model, eager_optimizer, eager_step = setup(OPTIMIZERS[name], clip=0.05)
    model, optimizer, step = setup(OPTIMIZERS[name], clip=0.05)
    compiled = md.compile(step, cuda_graph=True)
    numpy.testing.assert_array_equal(train(compiled, data), train(eager_step, data))
    assert compiled.uses_cuda_graph
    assert_same_state(model, eager_model)
    assert_same_optimizer_state(optimizer, eager_optimizer)
    if name.startswith(("adam", "adagrad")):  # bias corrections, lr_decay: arithmetic on the step count
        parts = compiled._entry.graph.parts
        assert parts.device.instruction_count < compiled.program.instruction_count  # it left the graph


class TrustRatioSGD(optim.SGD):
    """SGD with a per-parameter trust ratio (LARS-like): ``local_lr = lr; local_lr *= |p| / |g|``."""

    def update(self):
        for group in self.param_groups:
            for p, grad in self.gradients(group):
                xp = p.xp
                local_lr = group["lr"]
                local_lr *= xp.sqrt(xp.sum(p.data * p.data)) / (xp.sqrt(xp.sum(grad * grad)) + 1e-6)
                p.data -= local_lr * grad


def test_a_setting_multiplied_in_place_by_an_array_changes_nothing_else(backend, graphs):
    # On a Python number `*=` rebinds the name; in the graph it must not write into the setting's buffer.
    data = batches()
    _, _, eager_step = setup(lambda params: TrustRatioSGD(params, lr=0.01))
    _, _, step = setup(lambda params: TrustRatioSGD(params, lr=0.01))
    compiled = md.compile(step, cuda_graph=True)
    numpy.testing.assert_array_equal(train(compiled, data, steps=8), train(eager_step, data, steps=8))
    assert compiled.uses_cuda_graph


@pytest.mark.parametrize("change", ["number to array", "array to number"])
def test_a_step_count_that_changes_kind_after_the_capture_is_an_error(backend, graphs, change):
    data = batches()
    _, optimizer, step = setup(OPTIMIZERS["adam"])
    if change == "array to number":
        train(step, data, steps=2)  # eager steps make the state; then it holds arrays before the trace
        for state in optimizer.state.values():
            state["step"] = md.tensor(float(state["step"])).data
    compiled = md.compile(step, cuda_graph=True)
    train(compiled, data, steps=4)
    for state in optimizer.state.values():
        state["step"] = md.tensor(float(state["step"])).data if change == "number to array" else int(state["step"])
    with pytest.raises(md.CompileError, match="step.reset"):
        train(compiled, data, steps=1)


def test_a_group_that_mixes_dtypes_stays_off_the_graph(backend, graphs):
    """Its settings would reach the graph in one dtype (float64's lr for float32 weights, or float16's)."""
    rng = numpy.random.default_rng(0)
    w64 = nn.Parameter(md.tensor(rng.normal(size=(6, 3)), dtype=md.float64))
    w32 = nn.Parameter(md.tensor(rng.normal(size=(6, 3)), dtype=md.float32))
    optimizer = optim.Adam([w64, w32], lr=0.01)
    x = md.tensor(rng.normal(size=(4, 6)), dtype=md.float32)

    def step(x):
        optimizer.zero_grad()
        loss = ((x @ w32) ** 2).sum() + ((x.astype(md.float64) @ w64) ** 2).sum().astype(md.float32)
        loss.backward()
        optimizer.step()
        return loss

    when_possible = md.compile(step)
    for _ in range(3):
        when_possible(x)
    assert not when_possible.uses_cuda_graph and "float32 and float64" in when_possible.graph_note
    demanded = md.compile(step, cuda_graph=True)
    with pytest.raises(md.CompileError, match="mixes float32 and float64"):
        for _ in range(3):
            demanded(x)


class WarmUpSGD(optim.SGD):
    """The step size ramps as 1 / (warmup + 1 - t), then decays as 1 / (t - warmup): a branch on the count."""

    def update(self):
        for group in self.param_groups:
            for p, grad in self.gradients(group):
                state = self.state_of(p)
                t = state["t"] = state.get("t", 0) + 1
                scale = 1.0 / (4 + 1 - t) if t <= 4 else 1.0 / (t - 4)
                p.data -= (group["lr"] * scale) * grad


def test_a_branch_on_the_step_count_is_a_compile_error_not_a_division_by_zero(backend, graphs):
    _, _, step = setup(lambda params: WarmUpSGD(params, lr=0.1))
    with pytest.raises(md.CompileError, match="arithmetic on optimizer settings"):
        train(md.compile(step, cuda_graph=True), batches(), steps=8)


class CopiedRateSGD(optim.SGD):
    """``local = xp.asarray(lr)`` then a write into ``local``: eagerly a new array; in a graph maybe lr's own."""

    write = "imul"

    def update(self):
        for group in self.param_groups:
            for p, grad in self.gradients(group):
                xp = p.xp
                local = xp.asarray(group["lr"], dtype=p.data.dtype)
                ratio = xp.sqrt(xp.sum(p.data * p.data)) / (xp.sqrt(xp.sum(grad * grad)) + 1e-6)
                if self.write == "imul":
                    local *= ratio
                else:
                    local[...] = local * ratio
                p.data -= local * grad


@pytest.mark.parametrize("write", ["imul", "setitem"])
def test_a_write_into_an_array_made_from_a_setting_keeps_the_step_off_the_graph(backend, graphs, write):
    data = batches()
    runs = []
    for compile_it in (False, True):
        _, optimizer, step = setup(lambda params: CopiedRateSGD(params, lr=0.01))
        optimizer.write = write
        run = md.compile(step) if compile_it else step
        runs.append((train(run, data, steps=8), run))
    (eager_losses, _), (losses, compiled) = runs
    numpy.testing.assert_array_equal(losses, eager_losses)  # replayed op by op: the eager numbers
    assert not compiled.uses_cuda_graph and "in place" in compiled.graph_note
    _, _, step = setup(lambda params: CopiedRateSGD(params, lr=0.01))
    with pytest.raises(md.CompileError, match="in place"):
        train(md.compile(step, cuda_graph=True), data, steps=3)
