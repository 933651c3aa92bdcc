"""Dropout as a layer: active in ``model.train()``, the identity in ``model.eval()``."""

from __future__ import annotations

from minidl.autograd.tensor import Tensor
from minidl.nn.module import Module
from minidl.ops.dropout import dropout


class Dropout(Module):
    """Zero each activation with probability ``p`` while training (masks from the host RNG, see ``F.dropout``).

    >>> import minidl as md, minidl.nn as nn
    >>> layer = nn.Dropout(0.5).eval()
    >>> layer(md.ones((3,))).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must lie in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
