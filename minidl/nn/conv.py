"""Convolution and pooling layers (NCHW), thin Modules over [`minidl.nn.functional`][minidl.nn.functional].

``Conv2d`` is im2col followed by one GEMM (see [`minidl.ops.conv`][minidl.ops.conv]);
the pooling layers are im2col followed by a max or a mean.
"""

from __future__ import annotations

from minidl.autograd.dtypes import as_dtype
from minidl.autograd.tensor import Tensor
from minidl.nn import init
from minidl.nn.module import Module
from minidl.nn.parameter import Parameter
from minidl.ops.conv import conv2d, pair
from minidl.ops.creation import zeros
from minidl.ops.pooling import avg_pool2d, max_pool2d


class Conv2d(Module):
    """2-D convolution: ``weight`` (out_channels, in_channels, kh, kw), ``bias`` (out_channels,).

    Initialised like PyTorch (uniform in ``+-1/sqrt(in_channels * kh * kw)``).

    >>> import minidl as md, minidl.nn as nn
    >>> conv = nn.Conv2d(1, 16, kernel_size=3, padding=1)
    >>> conv(md.ones((8, 1, 8, 8))).shape
    (8, 16, 8, 8)
    >>> conv
    Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0, bias: bool = True,
                 dtype=None, backend: str | None = None) -> None:
        super().__init__()
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"Conv2d needs positive channel counts, got in_channels={in_channels}, "
                             f"out_channels={out_channels}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = pair(padding, "padding", "Conv2d", 0)
        dtype = as_dtype(dtype) if dtype is not None else None
        shape = (out_channels, in_channels) + self.kernel_size
        self.weight = Parameter(zeros(shape, dtype=dtype, backend=backend))
        self.bias = Parameter(zeros((out_channels,), dtype=dtype, backend=backend)) if bias else None
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
                + (f", padding={self.padding}" if self.padding != (0, 0) else ""))
        return text + (", bias=False" if self.bias is None else "")


class _Pool2d(Module):
    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each window; ``stride`` defaults to ``kernel_size`` (windows side by side).

    >>> import minidl as md, minidl.nn as nn
    >>> nn.MaxPool2d(2)(md.ones((8, 16, 8, 8))).shape
    (8, 16, 4, 4)
    """

    def forward(self, x: Tensor) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """The mean of each window; ``stride`` defaults to ``kernel_size``; padding counts as zeros."""

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)
