"""The IDX file format of MNIST and Fashion-MNIST, read and written with NumPy.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), then each dimension as a big-endian uint32, then the values in
row-major order, big-endian. MNIST's images are ``uint8 (N, 28, 28)`` and its
labels ``uint8 (N,)``. Files ending in ``.gz`` are gzip-compressed.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy

# IDX type code -> big-endian NumPy dtype.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {numpy.dtype(v).newbyteorder("=").str: k for k, v in IDX_DTYPES.items()}


class IdxError(ValueError):
    """A file that is not a well-formed IDX file (wrong header, truncated data)."""


def _open(path: Path, mode: str):
    return gzip.open(path, mode) if path.suffix == ".gz" else open(path, mode)


def read_idx(path: str | os.PathLike) -> numpy.ndarray:
    """The array stored in an IDX file (gzip-compressed if its name ends in ``.gz``).

    >>> import numpy, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> write_idx(path, numpy.array([3, 1, 4], dtype=numpy.uint8))
    >>> read_idx(path).tolist()
    [3, 1, 4]
    """
    path = Path(path)
    try:
        with _open(path, "rb") as stream:
            raw = stream.read()
    except (EOFError, gzip.BadGzipFile) as error:  # a cut-off or damaged .gz
        raise IdxError(f"{path} is not a readable gzip file ({error}); delete it and download it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise IdxError(f"{path} is not an IDX file: its first bytes {raw[:4]!r} are not a valid IDX magic number")
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise IdxError(f"{path} is truncated: its header promises {ndim} dimensions but the file ends first")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = numpy.dtype(IDX_DTYPES[raw[2]])
    expected = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header says"
        raise IdxError(f"{path} is {problem}: shape {shape} of {dtype.name} needs {expected} bytes of data, "
                       f"found {found}; delete it and download it again")
    return numpy.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: numpy.ndarray) -> None:
    """Write ``array`` as an IDX file (gzip-compressed if the name ends in ``.gz``)."""
    path = Path(path)
    array = numpy.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("=").str)
    if code is None:
        raise TypeError(f"IDX has no type code for {array.dtype}; use uint8, int8, int16, int32, float32 or float64")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with _open(path, "wb") as stream:
        stream.write(header + array.astype(IDX_DTYPES[code]).tobytes())
