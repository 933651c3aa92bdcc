"""md.compile with state: optimizers, parameter groups, schedules, BatchNorm, dropout, saving mid-training.

Each test runs the same training eagerly and compiled for 20+ steps and
compares.  A replay computes the optimizer's scalars (lr, bias corrections)
from the same Python numbers as the eager step, on the host even when it is
a CUDA graph (``minidl.compile.host_scalars``), so the numbers are the same
bit for bit.  (The first H200 run, 2026-12-04, sent those numbers into the
graph as float32 arrays: 1-ulp differences after a few steps, stored in
docs/measurements/h200-2026-12-04/first-run/a/.)
"""

from __future__ import annotations

import numpy
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim

STEPS = 22
CLOSE = dict(rtol=0, atol=0)
# md.compile refuses lazy libraries (Dask) with a CompileError; tests/test_backend_registry.py checks that.
pytestmark = pytest.mark.needs("eager")


OPTIMIZERS = {
    "sgd": lambda params: optim.SGD(params, lr=0.1),
    "sgd-momentum": lambda params: optim.SGD(params, lr=0.05, momentum=0.9),
    "sgd-nesterov": lambda params: optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True),
    "sgd-dampening-weight-decay": lambda params: optim.SGD(params, lr=0.05, momentum=0.8, dampening=0.3,
                                                           weight_decay=0.01),
    "adam": lambda params: optim.Adam(params, lr=0.01),
    "adam-weight-decay-amsgrad": lambda params: optim.Adam(params, lr=0.01, weight_decay=0.01, amsgrad=True),
    "adamw": lambda params: optim.AdamW(params, lr=0.01, weight_decay=0.05),
    "rmsprop-centered-momentum": lambda params: optim.RMSprop(params, lr=0.005, momentum=0.5, centered=True,
                                                              weight_decay=0.01),
    "adagrad": lambda params: optim.Adagrad(params, lr=0.05, lr_decay=0.01, weight_decay=0.01),
    "adadelta": lambda params: optim.Adadelta(params, lr=1.0, weight_decay=0.01),
}


def setup(make_optimizer=OPTIMIZERS["adam"], batch_norm=False, dropout=0.0, clip=None, groups=False):
    """A small MLP (optionally with BatchNorm and dropout), its optimizer, and one training step."""
    md.manual_seed(0)
    # No bias before BatchNorm (it has no gradient but rounding noise, which Adam would blow up to lr-sized steps).
    layers = [nn.Linear(6, 8, bias=not batch_norm)] + ([nn.BatchNorm1d(8)] if batch_norm else []) + [nn.ReLU()]
    layers += ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(8, 3)]
    model = nn.Sequential(*layers)
    if groups:
        first, last = model[0], model[len(layers) - 1]
        params = [{"params": list(first.parameters()), "lr": 0.02, "weight_decay": 0.1},
                  {"params": [p for layer in list(model)[1:] for p in layer.parameters()]}]
    else:
        params = model.parameters()
    optimizer = make_optimizer(params)

    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return loss

    return model, optimizer, step


def batches(count=4, size=16):
    rng = numpy.random.default_rng(1)
    return [(md.tensor(rng.normal(size=(size, 6)).astype("float32")), md.tensor(rng.integers(0, 3, size)))
            for _ in range(count)]


def train(step, data, steps=STEPS, each=None):
    losses = []
    for index in range(steps):
        if each is not None:
            each(index)
        x, y = data[index % len(data)]
        losses.append(step(x, y).item())
    return numpy.array(losses)


def assert_same_state(model_a, model_b, close=CLOSE):
    for (name, a), (_, b) in zip(model_a.state_dict().items(), model_b.state_dict().items()):
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), err_msg=name, **close)


def assert_same_optimizer_state(optimizer_a, optimizer_b, close=CLOSE):
    state_a, state_b = optimizer_a.state_dict(), optimizer_b.state_dict()
    assert state_a["param_groups"] == state_b["param_groups"]
    assert state_a["state"].keys() == state_b["state"].keys()
    for index, values in state_a["state"].items():
        assert values.keys() == state_b["state"][index].keys()
        for key, value in values.items():
            other = state_b["state"][index][key]
            as_array = lambda v: v.numpy() if isinstance(v, md.Tensor) else numpy.asarray(v)  # noqa: E731
            numpy.testing.assert_allclose(as_array(value), as_array(other), err_msg=f"{index}.{key}", **close)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_compiled_gives_the_eager_training(backend, name):
    data = batches()
    eager_model, eager_optimizer, eager_step = setup(OPTIMIZERS[name])
    model, optimizer, step = setup(OPTIMIZERS[name])
    compiled = md.compile(step)
    numpy.testing.assert_allclose(train(compiled, data), train(eager_step, data), **CLOSE)
    assert compiled.traces == 1 and compiled.program is not None
    assert_same_state(model, eager_model)
    assert_same_optimizer_state(optimizer, eager_optimizer)


def test_every_optimizer_of_minidl_optim_is_tested():
    tested = {type(make([nn.Parameter(md.zeros((1,)))])).__name__ for make in OPTIMIZERS.values()}
    classes = {name for name in optim.__all__
               if isinstance(getattr(optim, name), type) and issubclass(getattr(optim, name), optim.Optimizer)}
    assert classes - {"Optimizer"} <= tested


def test_parameter_groups_with_their_own_settings(backend):
    data = batches()
    make = OPTIMIZERS["sgd-momentum"]
    eager_model, _, eager_step = setup(make, groups=True)
    model, _, step = setup(make, groups=True)
    numpy.testing.assert_allclose(train(md.compile(step), data), train(eager_step, data), **CLOSE)
    assert_same_state(model, eager_model)


def test_clip_grad_norm_inside_the_step(backend):
    data = batches()
    eager_model, _, eager_step = setup(OPTIMIZERS["adam"], clip=0.05)
    model, _, step = setup(OPTIMIZERS["adam"], clip=0.05)
    numpy.testing.assert_allclose(train(md.compile(step), data), train(eager_step, data), **CLOSE)
    assert_same_state(model, eager_model)


@pytest.mark.parametrize("schedule", ["cosine", "one-cycle"])
def test_a_schedule_changes_the_learning_rate_without_retracing(backend, schedule):
    data = batches()
    runs = []
    for compile_it in (False, True):
        model, optimizer, step = setup(OPTIMIZERS["adamw"])
        if schedule == "cosine":
            scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS)
        else:  # also moves Adam's beta1 (its momentum) at every step
            scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=STEPS)
        run = md.compile(step) if compile_it else step
        lrs = []

        def each(index):
            if index > 0:
                scheduler.step()  # after each step, as in a training loop
            lrs.append(optimizer.param_groups[0]["lr"])
        runs.append((train(run, data, each=each), model, lrs, run))
    (eager_losses, eager_model, _, _), (losses, model, lrs, compiled) = runs
    assert len(set(lrs)) > STEPS // 2  # the rate really changed
    assert compiled.traces == 1  # the learning rate is an input of the replay, not a constant of the trace
    numpy.testing.assert_allclose(losses, eager_losses, **CLOSE)
    assert_same_state(model, eager_model)


def test_changing_a_setting_the_code_branches_on_traces_again(backend):
    data = batches()
    runs = []
    for compile_it in (False, True):
        model, optimizer, step = setup(OPTIMIZERS["sgd-momentum"])
        run = md.compile(step) if compile_it else step

        def each(index):
            if index == STEPS // 2:  # momentum off: SGD now takes the other branch of `if momentum:`
                optimizer.param_groups[0]["momentum"] = 0.0
        runs.append((train(run, data, each=each), model, run))
    (eager_losses, eager_model, _), (losses, model, compiled) = runs
    numpy.testing.assert_allclose(losses, eager_losses, **CLOSE)
    assert_same_state(model, eager_model)
    assert compiled.traces == 2


def test_batch_norm_switching_between_train_and_eval(backend):
    data = batches()
    results = []
    for compile_it in (False, True):
        model, _, step = setup(OPTIMIZERS["adam"], batch_norm=True)
        run = md.compile(step) if compile_it else step
        predict = md.compile(lambda x: model(x)) if compile_it else (lambda x: model(x))
        losses, outputs = [], []
        for index in range(STEPS):
            model.train()
            x, y = data[index % len(data)]
            losses.append(run(x, y).item())
            outputs.append(predict(x).numpy())      # batch statistics, and the running ones updated
            model.eval()
            outputs.append(predict(x).numpy())      # the running statistics
        results.append((numpy.array(losses), numpy.array(outputs), model, run, predict))
    (eager_losses, eager_outputs, eager_model, _, _), (losses, outputs, model, run, predict) = results
    numpy.testing.assert_allclose(losses, eager_losses, **CLOSE)
    numpy.testing.assert_allclose(outputs, eager_outputs, **CLOSE)
    assert_same_state(model, eager_model)  # running_mean and running_var included
    assert run.traces == 1 and predict.traces == 2  # one program per mode, each traced once


def test_dropout_with_a_seed_gives_the_eager_masks(backend):
    data = batches()
    eager_model, _, eager_step = setup(OPTIMIZERS["sgd-momentum"], dropout=0.3)
    model, _, step = setup(OPTIMIZERS["sgd-momentum"], dropout=0.3)
    compiled = md.compile(step)
    md.manual_seed(7)
    eager_losses = train(eager_step, data)
    md.manual_seed(7)
    losses = train(compiled, data)
    numpy.testing.assert_allclose(losses, eager_losses, **CLOSE)
    assert_same_state(model, eager_model)
    assert "draw" in compiled.source  # the masks are drawn inside the replay
    md.manual_seed(8)
    assert not numpy.allclose(train(compiled, data, steps=3), train(eager_step, data, steps=3))  # new masks


def test_state_dicts_after_compiled_steps_and_saving_mid_training(backend, tmp_path):
    data = batches()
    eager_model, eager_optimizer, eager_step = setup(OPTIMIZERS["adam"], batch_norm=True)
    eager_losses = train(eager_step, data, steps=2 * STEPS)

    model, optimizer, step = setup(OPTIMIZERS["adam"], batch_norm=True)
    first = train(md.compile(step), data)
    md.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "mid.pt")

    resumed_model, resumed_optimizer, resumed_step = setup(OPTIMIZERS["adam"], batch_norm=True)
    saved = md.load(tmp_path / "mid.pt")
    resumed_model.load_state_dict(saved["model"])
    resumed_optimizer.load_state_dict(saved["optimizer"])
    second = train(md.compile(resumed_step), data[STEPS % len(data):] + data[:STEPS % len(data)])

    numpy.testing.assert_allclose(numpy.concatenate([first, second]), eager_losses, **CLOSE)
    assert_same_state(resumed_model, eager_model)
    assert_same_optimizer_state(resumed_optimizer, eager_optimizer)


def test_a_grad_scaler_inside_the_step_is_refused(backend):
    model, optimizer, _ = setup(OPTIMIZERS["sgd"])
    scaler = md.amp.GradScaler()

    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss

    compiled = md.compile(step)
    x, y = batches(1)[0]
    compiled(x, y)
    with pytest.raises(md.CompileError, match="GradScaler"):
        compiled(x, y)


@pytest.fixture
def stand_in_graph(monkeypatch):
    """CUDA-graph replays on the CPU: test_compile's stand-in graph in place of CuPy's capture."""
    import importlib

    from test_compile import _StandInGemm, _StandInGraph

    graph_replay = importlib.import_module("minidl.compile.graph_replay")
    monkeypatch.setattr(graph_replay, "supports_graphs", lambda name: True)
    monkeypatch.setattr(graph_replay, "CapturedGraph", _StandInGraph)
    monkeypatch.setattr(graph_replay, "GraphGemm", _StandInGemm)


# a CUDA graph's buffers are written in place (CuPy); the stand-in does the same
@pytest.mark.needs("writeable")
def test_state_through_a_stand_in_cuda_graph(backend, stand_in_graph):
    """Adam, BatchNorm and a schedule with the graph replay's logic (static inputs, written-back state) on the CPU."""
    data = batches()
    runs = []
    for compile_it in (False, True):
        model, optimizer, step = setup(OPTIMIZERS["adam"], batch_norm=True)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS)
        run = md.compile(step, cuda_graph=True) if compile_it else step
        runs.append((train(run, data, each=lambda index: index and scheduler.step()), model, optimizer, run))
    (eager_losses, eager_model, eager_optimizer, _), (losses, model, optimizer, compiled) = runs
    assert compiled.uses_cuda_graph and compiled.traces == 1
    numpy.testing.assert_allclose(losses, eager_losses, **CLOSE)
    assert_same_state(model, eager_model)
    assert_same_optimizer_state(optimizer, eager_optimizer)


def test_dropout_masks_keep_a_step_off_the_cuda_graph(backend, stand_in_graph):
    x, y = batches(1)[0]
    _, _, step = setup(OPTIMIZERS["sgd"], dropout=0.5)
    when_possible = md.compile(step)
    for _ in range(3):
        when_possible(x, y)
    assert not when_possible.uses_cuda_graph and "random" in when_possible.graph_note
    _, _, step = setup(OPTIMIZERS["sgd"], dropout=0.5)
    insisting = md.compile(step, cuda_graph=True)
    insisting(x, y), insisting(x, y)
    with pytest.raises(md.CompileError, match="random numbers"):
        insisting(x, y)
