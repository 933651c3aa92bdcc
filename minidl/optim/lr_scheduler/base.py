"""LRScheduler: the base class of the epoch-driven schedules.

Each schedule here is a closed form of the epoch count (``rates(epoch)``),
so a scheduler restored from ``state_dict`` continues exactly where it
stopped, and skipping ahead costs nothing.
"""

from __future__ import annotations

from typing import Any

from minidl.optim.optimizer import Optimizer


def check_optimizer(scheduler: object, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(scheduler).__name__} takes a minidl optimizer, got {type(optimizer).__name__}")
    return optimizer


class LRScheduler:
    """Base class: subclasses define ``lr_at(base_lr, epoch)`` (or ``rates(epoch)``); creating one sets epoch 0.

    ``base_lrs`` are the groups' rates when the first scheduler was attached
    (kept in each group as ``initial_lr``, as PyTorch does).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = check_optimizer(self, optimizer)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def rates(self, epoch: int) -> list[float]:
        """The learning rate of each group at ``epoch``."""
        return [self.lr_at(base_lr, epoch) for base_lr in self.base_lrs]

    def step(self) -> None:
        """Advance one epoch and set every group's ``lr`` for it."""
        self.last_epoch += 1
        for group, rate in zip(self.optimizer.param_groups, self.rates(self.last_epoch)):
            group["lr"] = float(rate)

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group, as last set."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.base_lrs = [float(lr) for lr in state["base_lrs"]]
        self.last_epoch = int(state["last_epoch"]) - 1
        self.step()
