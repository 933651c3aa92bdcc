"""2-D convolution as im2col followed by one matrix product (and 1-D, as a 2-D of height 1).

A convolution slides a (C, kh, kw) filter over the image and takes a dot
product at each place.  im2col ("image to columns") copies every one of
those patches into a row of a matrix, one row per output pixel:

    x (N, C, H, W)  --im2col-->  patches (N*OH*OW, C*kh*kw)

and then all filters at all places are ONE GEMM with the weight reshaped to
(out_channels, C*kh*kw):

    out = patches @ weight.T + bias          (N*OH*OW, out_channels)

which is exactly [`minidl.ops.linalg.linear()`][minidl.ops.linalg.linear], so ``md.set_matmul``
kernels run convolutions too.  The backward is two more GEMMs (through
linear) and col2im, which adds each row of the patch gradient back onto the
pixels it was copied from; where windows overlap, the contributions sum.

Both im2col and col2im are written with the Array API only: strided slicing,
``stack``, ``reshape``, ``permute_dims``, and slice assignment into an
array of zeros.  The loop runs over the kh*kw kernel offsets (9 for a 3x3
kernel), never over pixels.  Inside, the image is kept channels-last
(NHWC), so the stacked patches are already in row order and the big
reshape is free.
"""

from __future__ import annotations

from minidl import backend as _backend
from minidl.autograd.autocast import _autocast_dtype
from minidl.autograd.function import Function, check_same_backend
from minidl.autograd.tensor import Tensor
from minidl.ops.autocasting import cast_for_gemm
from minidl.ops.checks import expect_tensor
from minidl.ops.linalg import linear
from minidl.ops.shape import permute_dims, reshape

Pair = tuple[int, int]


def pair(value: int | tuple[int, int], name: str, op: str, minimum: int) -> Pair:
    """``3`` -> ``(3, 3)``; check both entries are integers >= ``minimum``."""
    result = (value, value) if isinstance(value, int) else tuple(value)
    if len(result) != 2 or not all(isinstance(v, int) and v >= minimum for v in result):
        raise ValueError(f"{op}: {name} must be an integer >= {minimum} or a pair of them, got {value!r}")
    return result  # type: ignore[return-value]


def output_size(op: str, height_width: Pair, kernel: Pair, stride: Pair, padding: Pair) -> Pair:
    """The output (OH, OW): ``(H + 2 * padding - kh) // stride + 1`` per axis, checked to be >= 1."""
    sizes = []
    for size, k, s, p in zip(height_width, kernel, stride, padding):
        if size + 2 * p < k:
            raise ValueError(f"{op}: kernel {kernel} is larger than the padded input {height_width} "
                             f"(padding {padding}); use a smaller kernel or more padding")
        sizes.append((size + 2 * p - k) // s + 1)
    return sizes[0], sizes[1]


def window_params(op: str, image_shape: tuple[int, ...], kernel_size: int | Pair, stride: int | Pair,
                  padding: int | Pair) -> dict[str, Pair]:
    """Checked kernel, stride, padding pairs and the output size, as the keyword arguments of Im2Col."""
    kernel = pair(kernel_size, "kernel_size", op, 1)
    stride_pair = pair(stride, "stride", op, 1)
    padding_pair = pair(padding, "padding", op, 0)
    out_size = output_size(op, tuple(image_shape[2:]), kernel, stride_pair, padding_pair)
    return {"kernel": kernel, "stride": stride_pair, "padding": padding_pair, "out_size": out_size}


def _windows(kernel: Pair, stride: Pair, out_size: Pair) -> list[tuple[slice, slice]]:
    """For each kernel offset (i, j): the strided slices of the padded image it touches."""
    return [(slice(i, i + stride[0] * (out_size[0] - 1) + 1, stride[0]),
             slice(j, j + stride[1] * (out_size[1] - 1) + 1, stride[1]))
            for i in range(kernel[0]) for j in range(kernel[1])]


class Im2Col(Function):
    """(N, C, H, W) -> (N*OH*OW, C*kh*kw): one row per output pixel, holding its patch."""

    kernel: Pair
    stride: Pair
    padding: Pair
    out_size: Pair
    pad_value: float

    def forward(self, x):
        xp = self.xp
        n, channels, height, width = x.shape
        (ph, pw), out_size = self.padding, self.out_size
        image = xp.permute_dims(x, (0, 2, 3, 1))                          # NHWC: a patch row is contiguous
        if ph or pw:
            padded = xp.full((n, height + 2 * ph, width + 2 * pw, channels), self.pad_value, dtype=x.dtype,
                             device=_backend.array_device(x))
            image = _backend.set_at(padded, (slice(None), slice(ph, ph + height), slice(pw, pw + width), ...), image)
        windows = [image[:, rows, cols, :] for rows, cols in _windows(self.kernel, self.stride, out_size)]
        patches = xp.stack(windows, axis=-1)                                # (N, OH, OW, C, kh*kw)
        rows = n * out_size[0] * out_size[1]  # not -1 for the columns: an empty batch has rows == 0
        return xp.reshape(patches, (rows, channels * self.kernel[0] * self.kernel[1]))

    def backward(self, grad, x):
        return Col2Im.apply(grad, image_shape=tuple(x.shape), kernel=self.kernel, stride=self.stride,
                            padding=self.padding, out_size=self.out_size)


class Col2Im(Function):
    """(N*OH*OW, C*kh*kw) -> (N, C, H, W): each patch row added back where im2col took it from."""

    image_shape: tuple[int, int, int, int]
    kernel: Pair
    stride: Pair
    padding: Pair
    out_size: Pair

    def forward(self, columns):
        xp = self.xp
        n, channels, height, width = self.image_shape
        (ph, pw), (oh, ow) = self.padding, self.out_size
        kernel_area = self.kernel[0] * self.kernel[1]
        patches = xp.reshape(columns, (n, oh, ow, channels, kernel_area))
        image = xp.zeros((n, height + 2 * ph, width + 2 * pw, channels), dtype=columns.dtype,
                         device=_backend.array_device(columns))
        # One slice-add per kernel offset: windows of one offset never overlap each other,
        # and the overlaps between offsets are summed by the successive adds.
        for offset, (rows, cols) in enumerate(_windows(self.kernel, self.stride, self.out_size)):
            image = _backend.add_at(image, (slice(None), rows, cols, ...), patches[..., offset])
        image = image[:, ph:ph + height, pw:pw + width, :]
        return xp.permute_dims(image, (0, 3, 1, 2))

    def backward(self, grad, columns):
        return Im2Col.apply(grad, kernel=self.kernel, stride=self.stride, padding=self.padding,
                            out_size=self.out_size, pad_value=0.0)


def check_image(op: str, x: Tensor) -> None:
    expect_tensor(op, x)
    if x.ndim != 4:
        raise ValueError(f"{op} expects an input of shape (N, C, H, W), got {x.ndim} dimensions: {x.shape}; "
                         "a single image needs a batch axis (x.reshape((1,) + x.shape))")


def im2col(x: Tensor, kernel_size: int | Pair, stride: int | Pair = 1, padding: int | Pair = 0,
           pad_value: float = 0.0) -> Tensor:
    """The patches of ``x`` (N, C, H, W) as rows of a matrix (N*OH*OW, C*kh*kw), differentiably.

    Columns are ordered channel first, then kernel row, then kernel column,
    the same order as ``weight.reshape(out_channels, -1)`` of a convolution.

    >>> import minidl as md
    >>> from minidl.ops.conv import im2col
    >>> im2col(md.ones((2, 3, 5, 5)), kernel_size=3).shape     # 2 images * 3*3 outputs, 3 channels * 3*3
    (18, 27)
    """
    check_image("im2col", x)
    return Im2Col.apply(x, **window_params("im2col", x.shape, kernel_size, stride, padding), pad_value=pad_value)


def col2im(columns: Tensor, image_shape: tuple[int, int, int, int], kernel_size: int | Pair,
           stride: int | Pair = 1, padding: int | Pair = 0) -> Tensor:
    """The adjoint of `im2col()`: sum each patch row back into an image of ``image_shape``."""
    params = window_params("col2im", tuple(image_shape), kernel_size, stride, padding)
    (oh, ow), (kh, kw) = params["out_size"], params["kernel"]
    expected = (image_shape[0] * oh * ow, image_shape[1] * kh * kw)
    if columns.shape != expected:
        raise ValueError(f"col2im: columns of shape {columns.shape} do not fit image shape {tuple(image_shape)} "
                         f"with {params}: expected {expected}")
    return Col2Im.apply(columns, image_shape=tuple(image_shape), **params)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | Pair = 1,
           padding: int | Pair = 0) -> Tensor:
    """2-D cross-correlation (what deep learning calls convolution), NCHW, as im2col + one GEMM.

    ``x`` is (N, C, H, W), ``weight`` (out_channels, C, kh, kw), ``bias``
    (out_channels,); the result is (N, out_channels, OH, OW) with
    ``OH = (H + 2 * padding - kh) // stride + 1``.

    >>> import minidl as md, minidl.nn.functional as F
    >>> F.conv2d(md.ones((1, 1, 4, 4)), md.ones((2, 1, 3, 3)), padding=1)[0, 0].tolist()[0]
    [4.0, 6.0, 6.0, 4.0]
    """
    check_image("conv2d", x)
    if weight.ndim != 4:
        raise ValueError(f"conv2d expects a weight of shape (out_channels, in_channels, kh, kw), got {weight.shape}")
    out_channels, in_channels, kh, kw = weight.shape
    if x.shape[1] != in_channels:
        fix = ("the input looks channels-last (N, H, W, C): minidl wants (N, C, H, W), so pass "
               "md.permute_dims(x, (0, 3, 1, 2))" if x.shape[3] == in_channels else
               f"give {in_channels}-channel images, or a layer with in_channels={x.shape[1]}")
        raise ValueError(f"conv2d: the input has {x.shape[1]} channels (shape {x.shape}) but the weight "
                         f"{weight.shape} expects {in_channels}; {fix}")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"conv2d: bias shape {bias.shape} should be ({out_channels},)")
    check_same_backend("conv2d", (x, weight))  # before the dtype check: dtypes of two libraries never compare
    if _autocast_dtype.get() is not None:  # md.autocast(): the GEMM in float16
        x, weight, bias = cast_for_gemm(x, weight, bias)
    if x.data.dtype != weight.data.dtype:
        raise TypeError(f"conv2d: input is {x.dtype.name} but the weight is {weight.dtype.name}; "
                        f"convert the input with .astype(md.{weight.dtype.name})")
    params = window_params("conv2d", x.shape, (kh, kw), stride, padding)
    (oh, ow) = params["out_size"]
    columns = Im2Col.apply(x, **params, pad_value=0.0)                    # (N*OH*OW, C*kh*kw)
    out = linear(columns, reshape(weight, (out_channels, -1)), bias)      # the one GEMM: (N*OH*OW, out)
    return permute_dims(reshape(out, (x.shape[0], oh, ow, out_channels)), (0, 3, 1, 2))


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0) -> Tensor:
    """1-D convolution of ``x`` (N, C, L) with ``weight`` (out_channels, C, k): a conv2d of height 1.

    >>> import minidl as md, minidl.nn.functional as F
    >>> F.conv1d(md.ones((1, 1, 5)), md.ones((1, 1, 3)), padding=1)[0, 0].tolist()
    [2.0, 3.0, 3.0, 3.0, 2.0]
    """
    expect_tensor("conv1d", x)
    if x.ndim != 3:
        raise ValueError(f"conv1d expects an input of shape (N, C, L), got {x.ndim} dimensions: {x.shape}; "
                         "a single sequence needs a batch axis (x.reshape((1,) + x.shape))")
    if weight.ndim != 3:
        raise ValueError(f"conv1d expects a weight of shape (out_channels, in_channels, k), got {weight.shape}")
    for name, value in (("stride", stride), ("padding", padding)):
        if not isinstance(value, int):
            value = tuple(value)
            if len(value) != 1:
                raise ValueError(f"conv1d: {name} must be an integer or a 1-tuple, got {value!r}")
    stride = stride if isinstance(stride, int) else stride[0]
    padding = padding if isinstance(padding, int) else padding[0]
    out = conv2d(reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2])),
                 reshape(weight, weight.shape[:2] + (1, weight.shape[2])), bias, (1, stride), (0, padding))
    return reshape(out, out.shape[:2] + (out.shape[3],))
