"""Learning-rate schedules: ``optim.lr_scheduler.X`` as ``torch.optim.lr_scheduler.X``.

Epoch-driven schedules change each group's ``lr`` once per ``scheduler.step()``
(``OneCycleLR``: once per batch); ``ReduceLROnPlateau.step(metric)`` follows a
measurement instead.
"""

from minidl.optim.lr_scheduler.base import LRScheduler
from minidl.optim.lr_scheduler.closed_form import CosineAnnealingLR, ExponentialLR, LambdaLR, MultiStepLR, StepLR
from minidl.optim.lr_scheduler.one_cycle import OneCycleLR
from minidl.optim.lr_scheduler.plateau import ReduceLROnPlateau

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR", "MultiStepLR", "OneCycleLR",
           "ReduceLROnPlateau", "StepLR"]
