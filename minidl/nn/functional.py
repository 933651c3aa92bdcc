"""``minidl.nn.functional`` (imported as ``F``): the neural-network ops as plain functions.

They are defined in [`minidl.ops`][minidl.ops]; this module gathers the ones a model uses.
"""

from minidl.ops.softmax import log_softmax, softmax
from minidl.ops.conv import conv1d, conv2d
from minidl.ops.dropout import dropout
from minidl.ops.elementwise import sigmoid, tanh
from minidl.ops.piecewise import relu
from minidl.ops.embedding import embedding
from minidl.ops.linalg import linear
from minidl.ops.activation import elu, hardtanh, leaky_relu, silu, softplus
from minidl.ops.cross_entropy import cross_entropy, nll_loss
from minidl.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, l1_loss, mse_loss,
                             smooth_l1_loss)
from minidl.ops.normalization import batch_norm, layer_norm, rms_norm
from minidl.ops.gelu import gelu
from minidl.ops.attention import scaled_dot_product_attention
from minidl.ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "conv1d", "conv2d", "cross_entropy", "dropout", "elu", "embedding", "gelu", "hardtanh", "l1_loss", "layer_norm",
    "leaky_relu", "linear", "log_softmax", "max_pool2d", "mse_loss", "nll_loss", "relu", "rms_norm",
    "scaled_dot_product_attention", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus", "tanh",
]

# PyTorch's F.pad and F.one_hot (defined in minidl.ops, also md.pad and md.one_hot).
from minidl.ops.layout import pad  # noqa: E402
from minidl.ops.along_axis import one_hot  # noqa: E402

__all__ += ["one_hot", "pad"]
