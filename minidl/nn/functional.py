"""``minidl.nn.functional`` (imported as ``F``): the neural-network ops as plain functions.

They are defined in :mod:`minidl.ops`; this module gathers the ones a model uses.
"""

from minidl.ops.activation import log_softmax, softmax
from minidl.ops.elementwise import relu, sigmoid, tanh
from minidl.ops.linalg import linear
from minidl.ops.loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss

__all__ = [
    "binary_cross_entropy_with_logits", "cross_entropy", "linear", "log_softmax", "mse_loss", "relu", "sigmoid",
    "softmax", "tanh",
]
