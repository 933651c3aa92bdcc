"""``md.save`` / ``md.load``: state dicts and tensors in a ``.npz`` file, without pickle.

The file is an ordinary NumPy ``.npz`` archive (``numpy.load`` opens it): one
``.npy`` member per tensor, named after its place in the state dict
(``"0.weight"``, ``"state/0/momentum"``), plus a member ``__minidl__`` holding a
small JSON manifest: the format's name and version, and the structure around
the tensors (nested dicts, lists, numbers, strings). Nothing is pickled, on
either side, so loading a file can never run code.

Saving writes a temporary file in the destination folder and renames it over
the destination (``os.replace`` is atomic): a crash mid-save leaves the
previous file intact.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from minidl import backend as _backend
from minidl.data.files import atomic_write
from minidl.tools import npz
from minidl.autograd.dtypes import to_backend_dtype
from minidl.autograd.tensor import Tensor

FORMAT = "minidl"
VERSION = 1
MANIFEST_KEY = "__minidl__"
_SCALARS = (bool, int, float, str, type(None))


class SerializationError(ValueError):
    """A file that md.load cannot read: not a minidl file, truncated, corrupted, or holding pickled objects."""


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save a state dict, a tensor, or a nested structure of them to ``path`` (an ``.npz`` file).

    A Module or an optimizer (anything with ``state_dict()``) is saved as its
    state dict. Dict keys must be strings or integers; leaves may be Tensors,
    NumPy arrays, numbers, strings, booleans or None. Dtypes are kept.

    >>> import minidl as md, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.npz")
    >>> md.save({"w": md.ones((2, 3)), "step": 10}, path)
    >>> loaded = md.load(path)
    >>> loaded["w"].shape, loaded["step"]
    ((2, 3), 10)
    """
    if callable(getattr(obj, "state_dict", None)):
        obj = obj.state_dict()
    arrays: dict[str, Any] = {}
    tree = _encode(obj, "", arrays)  # before touching the disk: a bad leaf fails with nothing written
    manifest = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[MANIFEST_KEY] = npz.text_to_array(manifest)
    _atomic_write_npz(Path(path), arrays)


def load(path: str | os.PathLike, backend: str | None = None) -> Any:
    """Read what `save()` wrote; tensors land on ``backend`` (by default the current one).

    Raises `SerializationError`, naming the file, when it is not a
    minidl file, is truncated or corrupted, or contains pickled objects
    (which are refused, never run).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"md.load: no file at {path}")
    with open(path, "rb") as stream:
        if stream.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise SerializationError(f"{path} is not a minidl file: it is not an .npz (zip) archive")
    try:
        manifest, arrays = _read_npz(path)
        name = _backend.get_backend() if backend is None else _backend.resolve_name(backend)
        return _decode(manifest["tree"], arrays, name)
    except SerializationError:
        raise
    except ValueError as error:
        if "pickle" in str(error):
            raise SerializationError(
                f"{path} contains pickled Python objects; md.load refuses them because unpickling can run "
                "arbitrary code (a file written by md.save never contains any)"
            ) from None
        raise SerializationError(f"{path} is corrupted or not a minidl file ({error})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, TypeError, IndexError) as error:
        raise SerializationError(f"{path} is truncated or corrupted and cannot be loaded ({error})") from None


# ---- the structure around the tensors: JSON-friendly nodes -----------------------------------------

def _encode(value: Any, where: str, arrays: dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, Tensor):
        return {"tensor": _store(value.numpy(), where, arrays), "requires_grad": bool(value.requires_grad)}
    if npz.is_host_array(value):
        if npz.holds_objects(value):
            raise TypeError(f"md.save: {where or 'the object'} is a NumPy array of Python objects; "
                            "only numeric and boolean arrays can be saved without pickle")
        return {"ndarray": _store(value, where, arrays)}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"md.save: dict keys must be strings or integers, got {key!r} in {where or 'the dict'}")
        return {"dict": [[key, _encode(item, _join(where, key), arrays)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(item, _join(where, i), arrays) for i, item in enumerate(value)]}
    value = npz.as_python_scalar(value)
    if isinstance(value, _SCALARS):
        return {"value": value}
    raise TypeError(
        f"md.save cannot store {where or 'the object'} of type {type(value).__name__}; it saves Tensors, "
        "NumPy arrays, numbers, strings, None, and dicts/lists/tuples of them (save model.state_dict())"
    )


def _join(where: str, key: Any) -> str:
    return f"{where}/{key}" if where else str(key)


def _store(array: Any, where: str, arrays: dict[str, Any]) -> str:
    key = where or "tensor"
    if key in arrays or key == MANIFEST_KEY:
        key = f"{key}#{len(arrays)}"
    arrays[key] = array
    return key


def _decode(node: dict[str, Any], arrays: dict[str, Any], backend: str) -> Any:
    # Errors here are ValueErrors, which load() reports as a corrupted file, naming it.
    if not isinstance(node, dict) or not node:
        raise ValueError(f"the manifest holds {node!r} where an entry (a one-key dict) belongs")
    if "tensor" in node:
        return _to_tensor(arrays[node["tensor"]], backend, bool(node.get("requires_grad", False)))
    kind, payload = next(iter(node.items()))
    if kind == "ndarray":
        return arrays[payload]
    if kind == "dict":
        return {key: _decode(item, arrays, backend) for key, item in payload}
    if kind in ("list", "tuple"):
        items = [_decode(item, arrays, backend) for item in payload]
        return items if kind == "list" else tuple(items)
    if kind == "value":
        return payload
    raise ValueError(f"unknown entry {kind!r} in the manifest (written by a newer minidl?)")


def _to_tensor(host: Any, backend: str, requires_grad: bool) -> Tensor:
    xp = _backend.namespace(backend)
    # An explicit dtype, because array-api-strict gets 0-d arrays as Python scalars (float64 by default).
    data = _backend.from_host(host, backend, to_backend_dtype(xp, host.dtype.name))
    return Tensor._wrap(data, xp, backend, requires_grad)


# ---- the file: a zip of .npy members, written atomically --------------------------------------------

def _read_npz(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    # Reading every member now checks every CRC, so corruption is reported here, with the path.
    arrays = npz.read_npz(path)
    if MANIFEST_KEY not in arrays:
        raise SerializationError(f"{path} is an .npz archive but not a minidl file (it has no {MANIFEST_KEY!r} "
                                 "entry); read it with numpy.load")
    manifest = json.loads(npz.array_to_text(arrays.pop(MANIFEST_KEY)))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SerializationError(f"{path}: its {MANIFEST_KEY!r} entry is not a minidl manifest")
    if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
        raise SerializationError(f"{path} was written in minidl file format version {manifest.get('version')}, "
                                 f"this minidl reads up to version {VERSION}: upgrade minidl")
    return manifest, arrays


def _atomic_write_npz(path: Path, arrays: dict[str, Any]) -> None:
    if not path.parent.is_dir():
        raise FileNotFoundError(f"md.save: the folder {path.parent} does not exist; create it first")
    with atomic_write(path) as stream:
        npz.write_npz(stream, arrays)
