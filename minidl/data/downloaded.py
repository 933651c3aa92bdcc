"""Data sets downloaded on first use: MNIST and Fashion-MNIST, 28x28 grey images in ten classes.

The four IDX files of each data set are fetched into
``<data home>/mnist/`` or ``<data home>/fashion_mnist/`` (see
[`minidl.data.download.data_home()`][minidl.data.download.data_home]) and checked against the MD5 sums
that the data sets' publishers list (the same ones torchvision checks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy

from minidl.data.dataset import TensorDataset
from minidl.data.download import data_home, fetch
from minidl.data.idx import IdxError, read_idx


@dataclass(frozen=True)
class IdxDataset:
    """Where an IDX data set comes from: a folder name, mirrors, and (file, MD5) per split and part."""

    folder: str
    mirrors: tuple[str, ...]
    files: dict[str, dict[str, tuple[str, str]]]  # split -> "images"/"labels" -> (file name, MD5)


MNIST = IdxDataset(
    folder="mnist",
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    files={
        "train": {"images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                  "labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432")},
        "test": {"images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 "labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")},
    },
)

FASHION_MNIST = IdxDataset(
    folder="fashion_mnist",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    files={
        "train": {"images": ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                  "labels": ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe")},
        "test": {"images": ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 "labels": ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")},
    },
)


def load_idx_dataset(source: IdxDataset, root: str | os.PathLike | None, split: str, download: bool,
                     flatten: bool) -> TensorDataset:
    """Fetch (if needed), verify and read one split of an IDX data set."""
    if split not in source.files:
        raise ValueError(f"{source.folder}: split must be one of {sorted(source.files)}, got {split!r}")
    folder = data_home(root) / source.folder
    paths = {part: fetch(name, md5, folder, source.mirrors, download)
             for part, (name, md5) in source.files[split].items()}
    images, labels = read_idx(paths["images"]), read_idx(paths["labels"])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise IdxError(f"{paths['images']} and {paths['labels']} do not form a data set: images of shape "
                       f"{images.shape} (expected (N, H, W)) and labels of shape {labels.shape} (expected (N,))")
    features = images.astype(numpy.float32) / numpy.float32(255.0)
    features = features.reshape(len(features), -1) if flatten else features[:, None, :, :]
    return TensorDataset(features, labels)


def mnist(root: str | os.PathLike | None = None, split: str = "train", download: bool = True,
          flatten: bool = True) -> TensorDataset:
    """MNIST handwritten digits: 60000 training / 10000 test images, scaled to [0, 1].

    Features are float32 (N, 784), or (N, 1, 28, 28) with ``flatten=False``;
    labels are int64. The files are downloaded into ``root`` (default: the
    ``MINIDL_DATA_DIR`` environment variable, else ``~/.cache/minidl``) under
    ``mnist/``; without network, put the four ``*-ubyte.gz`` files there by hand.

    >>> import minidl as md
    >>> train = md.data.mnist(split="train")  # doctest: +SKIP
    """
    return load_idx_dataset(MNIST, root, split, download, flatten)


def fashion_mnist(root: str | os.PathLike | None = None, split: str = "train", download: bool = True,
                  flatten: bool = True) -> TensorDataset:
    """Fashion-MNIST (Zalando): 28x28 images of clothes in ten classes, same layout as `mnist()`.

    The files go under ``fashion_mnist/`` in the data folder.

    >>> import minidl as md
    >>> test = md.data.fashion_mnist(split="test")  # doctest: +SKIP
    """
    return load_idx_dataset(FASHION_MNIST, root, split, download, flatten)
