"""``minidl.nn.functional`` (imported as ``F``): the neural-network ops as plain functions.

They are defined in [`minidl.ops`][minidl.ops]; this module gathers the ones a model uses.
"""

from minidl.ops.softmax import log_softmax, softmax
from minidl.ops.conv import conv2d
from minidl.ops.dropout import dropout
from minidl.ops.elementwise import relu, sigmoid, tanh
from minidl.ops.embedding import embedding
from minidl.ops.linalg import linear
from minidl.ops.loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from minidl.ops.normalization import batch_norm, layer_norm, rms_norm
from minidl.ops.gelu import gelu
from minidl.ops.attention import scaled_dot_product_attention
from minidl.ops.pooling import avg_pool2d, max_pool2d

__all__ = [
    "avg_pool2d", "batch_norm", "binary_cross_entropy_with_logits", "conv2d", "cross_entropy", "dropout",
    "embedding", "gelu", "layer_norm", "linear", "log_softmax", "max_pool2d", "mse_loss", "relu", "rms_norm",
    "scaled_dot_product_attention", "sigmoid", "softmax", "tanh",
]

# PyTorch's F.pad and F.one_hot (defined in minidl.ops, also md.pad and md.one_hot).
from minidl.ops.layout import pad  # noqa: E402
from minidl.ops.along_axis import one_hot  # noqa: E402

__all__ += ["one_hot", "pad"]
