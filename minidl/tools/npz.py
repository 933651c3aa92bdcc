"""The ``.npz`` file format on the host: what ``md.save`` / ``md.load`` write and read.

An ``.npz`` is a zip archive of ``.npy`` members. Both directions refuse
pickled objects (``allow_pickle=False``), so reading a file never runs code.
NumPy is minidl's host format, so this module (like the rest of ``tools``
and ``data``) uses it openly; ``minidl.tools.serialization`` builds the
manifest around the arrays.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy
import numpy.lib.format


def is_host_array(value: Any) -> bool:
    """True for a NumPy array (saved as is, outside any Tensor)."""
    return isinstance(value, numpy.ndarray)


def holds_objects(array: numpy.ndarray) -> bool:
    """True when a NumPy array holds Python objects, which only pickle could store."""
    return bool(array.dtype.hasobject)


def as_python_scalar(value: Any) -> Any:
    """A NumPy scalar (``numpy.float32(1.5)``) as the Python number it holds; anything else unchanged."""
    return value.item() if isinstance(value, numpy.generic) else value


def text_to_array(text: str) -> numpy.ndarray:
    """UTF-8 text as a uint8 array, to sit in the archive beside the tensors."""
    return numpy.frombuffer(text.encode("utf-8"), dtype=numpy.uint8)


def array_to_text(array: numpy.ndarray) -> str:
    return array.tobytes().decode("utf-8")


def read_npz(path: Path) -> dict[str, numpy.ndarray]:
    """Every member of the archive at ``path``; reading each one checks its CRC."""
    with numpy.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def write_npz(stream: BinaryIO, arrays: dict[str, numpy.ndarray]) -> None:
    """Write ``arrays`` as an uncompressed ``.npz`` to a binary stream."""
    with zipfile.ZipFile(stream, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, array in arrays.items():
            with archive.open(key + ".npy", mode="w", force_zip64=True) as member:
                numpy.lib.format.write_array(member, array, allow_pickle=False)
