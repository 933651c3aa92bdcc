"""OneCycleLR: warm up to ``max_lr``, then anneal far below the start, once, stepped every batch.

Smith & Topin (2018), "super-convergence". With ``initial = max_lr / div_factor``
and ``min = initial / final_div_factor``, over ``total_steps`` batches:

    two phases (default):  initial -> max_lr (first pct_start), max_lr -> min
    three_phase=True:      initial -> max_lr, max_lr -> initial, initial -> min

each piece a half cosine (``anneal_strategy="cos"``) or a straight line
(``"linear"``). The momentum (SGD's ``momentum``, Adam's ``beta1``) moves the
opposite way, between ``max_momentum`` and ``base_momentum``, unless
``cycle_momentum=False``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from minidl.optim.lr_scheduler.base import LRScheduler, check_optimizer
from minidl.optim.optimizer import Optimizer


def _per_group(value: Any, optimizer: Optimizer, name: str) -> list[float]:
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"OneCycleLR: expected {count} values of {name} (one per group), got {len(value)}")
        return [float(v) for v in value]
    return [float(value)] * count


def _cos(start: float, end: float, fraction: float) -> float:
    return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1.0)


def _linear(start: float, end: float, fraction: float) -> float:
    return (end - start) * fraction + start


class OneCycleLR(LRScheduler):
    """The 1cycle policy; call ``step()`` after every batch (``total_steps`` or ``epochs * steps_per_epoch``).

    >>> import minidl as md, minidl.nn as nn, minidl.optim as optim
    >>> opt = optim.SGD([nn.Parameter(md.zeros((1,)))], lr=0.1, momentum=0.9)
    >>> scheduler = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> [round(lr, 6) for lr in scheduler.get_last_lr()]        # max_lr / div_factor
    [0.04]
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.85, max_momentum: float | Sequence[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        check_optimizer(self, optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None or epochs <= 0 or steps_per_epoch <= 0:
                raise ValueError("OneCycleLR needs total_steps, or both epochs and steps_per_epoch, as positive "
                                 f"integers; got total_steps={total_steps}, epochs={epochs}, "
                                 f"steps_per_epoch={steps_per_epoch}")
            total_steps = epochs * steps_per_epoch
        if total_steps <= 0:
            raise ValueError(f"OneCycleLR: total_steps must be a positive integer, got {total_steps}")
        if not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"OneCycleLR: pct_start must lie in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps = int(total_steps)
        self.anneal = _cos if anneal_strategy == "cos" else _linear
        warm = float(pct_start * total_steps) - 1
        self.phases = ([(warm, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                        (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr", "base_momentum",
                         "max_momentum"),
                        (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
                       if three_phase else
                       [(warm, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                        (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")])
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, top in zip(groups, _per_group(max_lr, optimizer, "max_lr")):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: {type(optimizer).__name__} has no momentum or betas to cycle; "
                                 "pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                bases = _per_group(base_momentum, optimizer, "base_momentum")
                tops = _per_group(max_momentum, optimizer, "max_momentum")
                for group, low, high in zip(groups, bases, tops):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, group["betas"][1])
        else:
            group["momentum"] = value

    def _phase_values(self, group: dict[str, Any], step: int) -> tuple[float, float | None]:
        start_step = 0.0
        for index, (end_step, start_lr, end_lr, start_momentum, end_momentum) in enumerate(self.phases):
            if step <= end_step or index == len(self.phases) - 1:
                fraction = (step - start_step) / (end_step - start_step)
                lr = self.anneal(group[start_lr], group[end_lr], fraction)
                momentum = (self.anneal(group[start_momentum], group[end_momentum], fraction)
                            if self.cycle_momentum else None)
                return lr, momentum
            start_step = end_step
        raise AssertionError("unreachable")  # pragma: no cover

    def step(self) -> None:
        """Advance one batch; stepping past ``total_steps`` is an error, as in PyTorch."""
        self.last_epoch += 1
        if self.last_epoch > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {self.last_epoch} times; the schedule has "
                             f"total_steps={self.total_steps} (make it epochs * batches per epoch)")
        for group in self.optimizer.param_groups:
            lr, momentum = self._phase_values(group, self.last_epoch)
            group["lr"] = float(lr)
            if momentum is not None:
                self._set_momentum(group, float(momentum))
