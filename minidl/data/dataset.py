"""Datasets: indexable collections of samples, kept on the host.

A dataset lives in host memory as NumPy arrays, whatever the backend: the
`DataLoader` gathers a whole batch from them with one
fancy-indexing call and moves it to the backend in one transfer. That is the
cheap way to feed a GPU (one copy per batch, not one per sample), and it keeps
a data set that is larger than the device's memory usable.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy

from minidl import backend as _backend
from minidl.autograd.tensor import Tensor


def to_tensors(host_arrays: Sequence[numpy.ndarray], backend: str | None = None) -> tuple[Tensor, ...]:
    """Wrap host arrays as Tensors on ``backend`` (the current one by default), keeping their dtypes."""
    name = _backend.get_backend() if backend is None else _backend.resolve_name(backend)
    xp = _backend.namespace(name)
    return tuple(Tensor._wrap(_backend.from_host(a, name), xp, name) for a in host_arrays)


class Dataset:
    """The interface: ``len(dataset)`` samples, ``dataset[i]`` is one sample.

    A sample is a tuple of arrays or numbers (for example ``(image, label)``).
    Subclasses may also define ``get_batch(indices)`` returning a tuple of
    stacked host arrays; the DataLoader then uses it instead of stacking
    samples one by one.

    >>> import numpy
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return numpy.float32(i), numpy.float32(i * i)
    >>> Squares()[3]
    (np.float32(3.0), np.float32(9.0))
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def _host_array(value: Any, position: int) -> numpy.ndarray:
    """A host copy with minidl's dtype rules: Tensors keep their dtype;
    other float data becomes float32 and other integers int64, as in ``md.tensor``."""
    if isinstance(value, Tensor):
        return value.numpy()
    array = numpy.asarray(value)
    if array.dtype.kind == "f":
        return array.astype(numpy.float32, copy=False)
    if array.dtype.kind in "iu":
        return array.astype(numpy.int64, copy=False)
    if array.dtype.kind == "b":
        return array
    raise TypeError(f"TensorDataset: array {position} has dtype {array.dtype}; give numbers or booleans")


class TensorDataset(Dataset):
    """Samples are rows of the given arrays: ``dataset[i] == (a[i], b[i], ...)``.

    The arrays (Tensors, NumPy arrays or nested lists) must share their first
    dimension. They are copied to the host once; ``dataset.arrays`` holds them.

    >>> import minidl as md
    >>> ds = md.data.TensorDataset(md.randn(5, 3), md.tensor([0, 1, 0, 1, 1]))
    >>> len(ds), ds.arrays[0].shape
    (5, (5, 3))
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array, e.g. TensorDataset(features, labels)")
        self.arrays: tuple[numpy.ndarray, ...] = tuple(_host_array(a, i) for i, a in enumerate(arrays))
        lengths = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(
                f"TensorDataset: every array needs the same first dimension (one row per sample), got shapes {shapes}"
            )

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index: int) -> tuple[numpy.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices: Sequence[int] | numpy.ndarray) -> tuple[numpy.ndarray, ...]:
        """The rows ``indices`` of every array, gathered with one fancy-indexing call each."""
        return tuple(a[indices] for a in self.arrays)

    def tensors(self, backend: str | None = None) -> tuple[Tensor, ...]:
        """All the data at once, as Tensors on ``backend`` (the current one by default)."""
        return to_tensors(self.arrays, backend)

    def __repr__(self) -> str:
        parts = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"TensorDataset({len(self)} samples: {parts})"
