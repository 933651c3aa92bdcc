"""The operations, grouped by kind (one module each).

Most are differentiable (elementwise, reductions, shapes, indexing, linear algebra, convolution, losses, ...);
creation and random functions make new leaves, ``search`` finds indices, ``inplace`` holds PyTorch's in-place
rules, and ``torch_methods`` gives Tensor its PyTorch-named methods from one table.
"""

from minidl.ops.creation import (arange, as_tensor, constant_like, eye, from_numpy, full, full_like, linspace, ones,
                                 ones_like, tensor, zeros, zeros_like)
from minidl.ops.random import (bernoulli, multinomial, normal, rand, rand_like, randint, randn, randn_like,
                               randperm)
from minidl.ops.elementwise import (add, astype, divide, equal, exp, greater, greater_equal, less, less_equal, log,
                                    multiply, negative, not_equal, pow, sigmoid, sqrt, subtract, tanh, where)
from minidl.ops.floor_division import IntegerDivisionByZero, divide_rounded, floor_divide, remainder
from minidl.ops.piecewise import abs, clip, maximum, minimum, relu
from minidl.ops.reduction import mean, sum
from minidl.ops.reduction import max as amax, min as amin
from minidl.ops.shape import (broadcast_to, concat, expand_dims, flatten, matrix_transpose, permute_dims, reshape,
                              squeeze, stack, sum_to)
from minidl.ops.indexing import getitem, take_rows
from minidl.ops.linalg import linear, matmul
from minidl.ops.softmax import log_softmax, softmax
from minidl.ops.activation import elu, hardtanh, leaky_relu, silu, softplus
from minidl.ops.cross_entropy import cross_entropy, nll_loss
from minidl.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, l1_loss, mse_loss,
                             smooth_l1_loss)
from minidl.ops.conv import col2im, conv1d, conv2d, im2col
from minidl.ops.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minidl.ops.normalization import batch_norm, layer_norm, rms_norm
from minidl.ops.dropout import dropout
from minidl.ops.embedding import embedding
from minidl.ops.gelu import gelu
from minidl.ops.attention import scaled_dot_product_attention
from minidl.ops.recurrent import gru_cell, lstm_cell, rnn_cell
from minidl.ops.unary import (ceil, cos, erf, expm1, floor, isfinite, isinf, isnan, log1p, round, rsqrt, sign,
                              sin)
from minidl.ops.layout import (chunk, clone, expand, flip, pad, repeat, roll, split, transpose, tril, triu,
                               unbind, unsqueeze)
from minidl.ops.diagonal import diagonal
from minidl.ops.narrow import narrow, select
from minidl.ops.layout import contiguous, view
from minidl.ops.strides import is_contiguous
from minidl.ops.along_axis import gather, masked_fill, one_hot, scatter_add
from minidl.ops.search import ValuesIndices, argmax, argmin, argsort, max, min, sort, topk
from minidl.ops.statistics import all, any, cumsum, logsumexp, prod, std, var
from minidl.ops.inplace import copied, filled, setitem, update_
from minidl.ops import torch_methods  # installs Tensor's PyTorch-named methods
