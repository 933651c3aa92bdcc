"""ReduceLROnPlateau: cut the rate when a watched number (validation loss) stops improving.

Unlike the other schedulers it is driven by a measurement, ``scheduler.step(val_loss)``,
not by the epoch count. ``patience`` epochs without improvement (by more
than ``threshold``) multiply every group's rate by ``factor`` (never below
``min_lr``); ``cooldown`` epochs after a cut are not counted.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from minidl.optim.lr_scheduler.base import check_optimizer
from minidl.optim.optimizer import Optimizer


class ReduceLROnPlateau:
    """Multiply the rates by ``factor`` after ``patience`` epochs with no improvement of the metric.

    >>> import minidl as md, minidl.nn as nn, minidl.optim as optim
    >>> opt = optim.SGD([nn.Parameter(md.zeros((1,)))], lr=1.0)
    >>> scheduler = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for val_loss in [3.0, 2.0, 2.0, 2.0]:    # two epochs without improvement: more than patience
    ...     scheduler.step(val_loss)
    >>> scheduler.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0.0, eps: float = 1e-8) -> None:
        self.optimizer = check_optimizer(self, optimizer)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0 (it multiplies the rate), got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        count = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * count
        if len(min_lrs) != count:
            raise ValueError(f"ReduceLROnPlateau: expected {count} min_lr values (one per group), got {len(min_lrs)}")
        self.min_lrs = [float(v) for v in min_lrs]
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.eps = int(cooldown), eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def is_better(self, value: float) -> bool:
        """Whether ``value`` improves on the best so far by more than the threshold."""
        if self.mode == "min":
            bar = self.best * (1.0 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return value < bar
        bar = self.best * (1.0 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return value > bar

    def step(self, metrics: Any) -> None:
        """Record this epoch's metric (a number or a one-element Tensor) and cut the rates if it has stalled."""
        value = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self.is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group, as last set."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
