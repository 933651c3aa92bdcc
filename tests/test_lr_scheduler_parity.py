"""Learning-rate schedulers against PyTorch's: the rates (and OneCycle's momentum) at every step."""

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.optim as optim

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of")


def pair(optimizer="SGD", lrs=(0.1, 0.02), **kwargs):
    """The same optimizer in minidl and in PyTorch, with two parameter groups."""
    ours = getattr(optim, optimizer)([{"params": [nn.Parameter(md.zeros((1,)))], "lr": lr} for lr in lrs], **kwargs)
    theirs = getattr(torch.optim, optimizer)([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr}
                                              for lr in lrs], **kwargs)
    return ours, theirs


def trace(optimizer, scheduler, steps, metrics=None):
    """Each group's lr (and momentum or beta1) before each step, then after the last."""
    rows = []
    for index in range(steps + 1):
        groups = optimizer.param_groups
        rows.append([g["lr"] for g in groups] + [g.get("momentum", g.get("betas", (0.0,))[0]) for g in groups])
        if index < steps:
            scheduler.step() if metrics is None else scheduler.step(metrics[index])
    return np.array(rows)


SCHEDULES = {
    "StepLR": dict(step_size=3, gamma=0.5),
    "MultiStepLR": dict(milestones=[2, 5, 9], gamma=0.3),
    "ExponentialLR": dict(gamma=0.9),
    "CosineAnnealingLR": dict(T_max=10, eta_min=0.001),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_closed_form_schedules_match_pytorch(name):
    ours, theirs = pair(momentum=0.9)
    kwargs = SCHEDULES[name]
    got = trace(ours, getattr(optim.lr_scheduler, name)(ours, **kwargs), 25)
    want = trace(theirs, getattr(torch.optim.lr_scheduler, name)(theirs, **kwargs), 25)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_lambda_lr_with_one_function_per_group_matches_pytorch():
    ours, theirs = pair()
    functions = [lambda epoch: 0.95 ** epoch, lambda epoch: min(1.0, (epoch + 1) / 5)]
    got = trace(ours, optim.lr_scheduler.LambdaLR(ours, functions), 12)
    want = trace(theirs, torch.optim.lr_scheduler.LambdaLR(theirs, functions), 12)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("kwargs", [
    dict(max_lr=1.0, total_steps=40),
    dict(max_lr=[0.5, 2.0], epochs=4, steps_per_epoch=7, anneal_strategy="linear", pct_start=0.25),
    dict(max_lr=1.0, total_steps=30, three_phase=True, div_factor=10.0, final_div_factor=100.0),
    dict(max_lr=1.0, total_steps=30, three_phase=True, anneal_strategy="linear", base_momentum=0.8),
    dict(max_lr=0.3, total_steps=20, cycle_momentum=False),
])
def test_one_cycle_matches_pytorch(optimizer, kwargs):
    extra = dict(momentum=0.9) if optimizer == "SGD" else {}
    ours, theirs = pair(optimizer, **extra)
    steps = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    got = trace(ours, optim.lr_scheduler.OneCycleLR(ours, **kwargs), steps - 1)
    want = trace(theirs, torch.optim.lr_scheduler.OneCycleLR(theirs, **kwargs), steps - 1)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_one_cycle_refuses_to_step_past_total_steps():
    scheduler = optim.lr_scheduler.OneCycleLR(pair()[0], max_lr=1.0, total_steps=3)
    scheduler.step(), scheduler.step(), scheduler.step()
    with pytest.raises(ValueError, match="total_steps=3"):
        scheduler.step()


METRICS = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.9, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 1.0, 1.0]


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(patience=1, factor=0.5),
    dict(patience=0, factor=0.5, cooldown=2, min_lr=[0.01, 0.005]),
    dict(patience=1, threshold=0.1, threshold_mode="abs", factor=0.2),
    dict(mode="max", patience=1, factor=0.5),
    dict(mode="max", patience=2, threshold=0.05, threshold_mode="abs", min_lr=0.03),
])
def test_reduce_on_plateau_matches_pytorch(kwargs):
    ours, theirs = pair()
    got = trace(ours, optim.lr_scheduler.ReduceLROnPlateau(ours, **kwargs), len(METRICS), METRICS)
    want = trace(theirs, torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **kwargs), len(METRICS), METRICS)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_reduce_on_plateau_state_dict_resumes():
    ours, _ = pair()
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(ours, patience=1, factor=0.5)
    for value in METRICS[:5]:
        scheduler.step(value)
    resumed = optim.lr_scheduler.ReduceLROnPlateau(ours, patience=7)
    resumed.load_state_dict(scheduler.state_dict())
    assert resumed.patience == 1 and resumed.best == scheduler.best
    assert resumed.num_bad_epochs == scheduler.num_bad_epochs


def test_one_cycle_state_dict_resumes_the_schedule():
    ours, _ = pair(momentum=0.9)
    scheduler = optim.lr_scheduler.OneCycleLR(ours, max_lr=1.0, total_steps=20)
    for _ in range(7):
        scheduler.step()
    other, _ = pair(momentum=0.9)
    other.load_state_dict(ours.state_dict())
    resumed = optim.lr_scheduler.OneCycleLR(other, max_lr=1.0, total_steps=20, last_epoch=0)
    resumed.load_state_dict(scheduler.state_dict())
    assert resumed.get_last_lr() == pytest.approx(scheduler.get_last_lr())


def test_scheduler_settings_are_checked():
    ours, _ = pair()
    with pytest.raises(ValueError, match="factor"):
        optim.lr_scheduler.ReduceLROnPlateau(ours, factor=2.0)
    with pytest.raises(ValueError, match="total_steps"):
        optim.lr_scheduler.OneCycleLR(ours, max_lr=1.0)
    with pytest.raises(ValueError, match="momentum"):
        optim.lr_scheduler.OneCycleLR(optim.Adagrad([nn.Parameter(md.zeros((1,)))]), max_lr=1.0, total_steps=5)
    with pytest.raises(ValueError, match="lr_lambdas"):
        optim.lr_scheduler.LambdaLR(ours, [lambda e: 1.0])
