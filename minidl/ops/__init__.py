"""The differentiable operations, grouped by kind (one module each)."""

from minidl.ops.creation import (arange, constant_like, eye, full, ones, ones_like, rand, randn, tensor, zeros,
                                 zeros_like)
from minidl.ops.elementwise import (abs, add, astype, clip, divide, equal, exp, greater, greater_equal, less,
                                    less_equal, log, maximum, minimum, multiply, negative, not_equal, pow, relu,
                                    sigmoid, sqrt, subtract, tanh, where)
from minidl.ops.reduction import max, mean, min, sum
from minidl.ops.shape import (broadcast_to, concat, expand_dims, flatten, matrix_transpose, permute_dims, reshape,
                              squeeze, stack, sum_to)
from minidl.ops.indexing import getitem, take_rows
from minidl.ops.linalg import linear, matmul
from minidl.ops.softmax import log_softmax, softmax
from minidl.ops.loss import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from minidl.ops.conv import col2im, conv2d, im2col
from minidl.ops.pooling import avg_pool2d, max_pool2d
from minidl.ops.normalization import batch_norm
from minidl.ops.dropout import dropout
from minidl.ops.embedding import embedding
from minidl.ops.inplace import copied, filled, setitem, update_
