"""Automatic mixed precision, under PyTorch's names: ``md.amp.autocast`` and ``md.amp.GradScaler``.

>>> import minidl as md
>>> md.amp.autocast is md.autocast
True
"""

from minidl.autograd.autocast import autocast, is_autocast_enabled
from minidl.optim.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "is_autocast_enabled"]
