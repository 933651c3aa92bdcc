"""minidl: deep learning from the computer's side.

A small reverse-mode autograd engine written against the Python Array API
standard, so the same code runs on NumPy (CPU BLAS), CuPy (GPU cuBLAS) and
array-api-strict.

>>> import minidl as md
>>> x = md.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> md.tanh(x).sum().backward()
>>> x.grad.shape
(2, 2)
"""

from minidl.backend import (Generator, backends, cuda, device, get_backend, is_gpu_available, manual_seed, set_backend,
                            using_backend)
from minidl.kernels.matmul import get_matmul, get_matmul_precision, set_matmul, set_matmul_precision, using_matmul
from minidl.autograd import (DType, Function, Tensor, bool_, enable_grad, float16, float32, float64, int32, int64,
                             is_grad_enabled, no_grad, set_grad_enabled, uint8)
from minidl.autograd.autocast import autocast, is_autocast_enabled
from minidl.ops import (abs, add, arange, astype, broadcast_to, clip, concat, divide, equal, exp, expand_dims, eye,
                        flatten, full, greater, greater_equal, less, less_equal, log, matmul, matrix_transpose, max,
                        maximum, mean, min, minimum, multiply, negative, not_equal, ones, ones_like, permute_dims,
                        pow, rand, randn, relu, reshape, sigmoid, sqrt, squeeze, stack, subtract, sum, sum_to, tanh,
                        tensor, where, zeros, zeros_like)
from minidl.ops import (all, amax, amin, any, argmax, argmin, argsort, ceil, chunk, clone, cos, cumsum, erf, expand,
                        expm1, flip, floor, floor_divide, gather, isfinite, isinf, isnan, log1p, logsumexp, masked_fill,
                        one_hot, pad, prod, remainder, repeat, roll, round, rsqrt, scatter_add, sign, sin, softmax,
                        log_softmax, sort, split, std, topk, transpose, tril, triu, unbind, unsqueeze, var)
from minidl.ops import (as_tensor, bernoulli, from_numpy, full_like, linspace, multinomial, normal, rand_like,
                        randint, randn_like, randperm)
from minidl.ops import diagonal, narrow, select
from minidl.ops import IntegerDivisionByZero
from minidl.ops import concat as cat, clip as clamp, permute_dims as permute  # PyTorch's names for the standard's
from minidl.ops import divide_rounded as div  # torch.div, with its rounding_mode
from minidl.tools.gradcheck import GradcheckError, gradcheck
from minidl.tools.profiler import profile
from minidl.compile import CompileError, compile  # noqa: A004 - md.compile shadows the builtin here only
from minidl.tools.anomaly import AnomalyError, detect_anomaly
from minidl.tools.serialization import SerializationError, load, save
from minidl import amp, nn, optim
from minidl.tools import viz
from minidl import data
from minidl import utils
import minidl.utils.data  # noqa: E402 - md.utils.data, PyTorch's path to md.data

half = float16  # md.half, as torch.half
bool = bool_  # md.bool, as in api.md (shadows the builtin only inside this namespace)
# PyTorch's dtype names (torch.int is 32-bit, torch.long 64-bit); they shadow builtins only in this namespace.
float, double, long, int = float32, float64, int64, int32  # noqa: A001

__version__ = "0.1.0"
