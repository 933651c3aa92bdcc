"""Dropout: zero a random fraction ``p`` of the activations while training, and scale the rest.

Each kept value is divided by ``1 - p``, so the expected activation is the
same in training and evaluation, and evaluation needs no rescaling
("inverted dropout").  The gradient flows through the kept entries only,
with the same scale.

The mask is drawn on the host with minidl's host generator
(``md.manual_seed``) and then moved to the backend: one seed gives the same
mask on every backend, at the cost of one host-to-device copy per call on a
GPU.
"""

from __future__ import annotations

from minidl import backend as _backend
from minidl.autograd.tensor import Tensor
from minidl.ops.checks import expect_tensor
from minidl.ops.piecewise import Masked


class Dropout(Masked):
    """``x * mask`` with a mask of 0 and ``1 / (1 - p)`` drawn in forward; backward is ``grad * mask``."""

    p: float

    def forward(self, a):
        tensor = self.inputs[0]
        self.mask = _backend.draw(_mask, tuple(a.shape), self.p, tensor.dtype.name, tensor.backend)
        return a * self.mask


def _mask(shape: tuple, p: float, dtype: str, backend: str):
    """Zeros and ``1 / (1 - p)``, drawn on the host and moved to ``backend`` (md.compile replays this call)."""
    keep = _backend.host_rng().random(shape) >= p
    return _backend.from_host(keep.astype(dtype) / (1.0 - p), backend)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each entry with probability ``p`` and scale the rest by ``1 / (1 - p)``; identity unless ``training``.

    >>> import minidl as md, minidl.nn.functional as F
    >>> md.manual_seed(0)
    >>> y = F.dropout(md.ones((1000,)), p=0.25)
    >>> sorted({round(v, 4) for v in y.tolist()})     # dropped, or kept and scaled by 1 / (1 - p)
    [0.0, 1.3333]
    >>> F.dropout(md.ones((3,)), p=0.25, training=False).tolist()
    [1.0, 1.0, 1.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must lie in [0, 1], got {p}")
    expect_tensor("dropout", x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    if not x.dtype.is_floating:
        raise TypeError(f"dropout needs a floating-point tensor, got {x.dtype.name}")
    return Dropout.apply(x, p=float(p))
