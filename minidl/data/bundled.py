"""Data sets bundled inside minidl: the 8x8 handwritten digits, a real data set that needs no download.

Origin: the test set of the UCI "Optical Recognition of Handwritten Digits"
data set (E. Alpaydin and C. Kaynak, 1998,
https://archive.ics.uci.edu/ml/datasets/Optical+Recognition+of+Handwritten+Digits),
licensed under CC BY 4.0, as copied into scikit-learn. ``digits.npz`` next to
this file was built from scikit-learn's copy by ``_make_digits.py``, which also
fixes the train/test split (stratified by class, 20% test, seed 0: 1438
training and 359 test images) and stores it in the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy

from minidl.data.dataset import TensorDataset

DIGITS_FILE = Path(__file__).with_name("digits.npz")
PIXEL_MAX = 16.0  # the 8x8 images count "on" pixels of 4x4 blocks: integers 0..16

_SPLITS = ("train", "test")


def digits(split: str = "train", flatten: bool = True) -> TensorDataset:
    """The 8x8 handwritten digits (10 classes), scaled to [0, 1].

    ``split`` is ``"train"`` (1438 images) or ``"test"`` (359 images): a fixed,
    stratified split of the 1797 images, the same on every machine. Features
    are float32, shaped (N, 64) with ``flatten=True`` (for an MLP) or
    (N, 1, 8, 8) with ``flatten=False`` (for a CNN, NCHW); labels are int64 digits.

    >>> import minidl as md
    >>> train = md.data.digits("train")
    >>> len(train), train.arrays[0].shape, train.arrays[1][:5].tolist()
    (1438, (1438, 64), [0, 1, 2, 3, 4])
    """
    if split not in _SPLITS:
        raise ValueError(f"digits: split must be 'train' or 'test', got {split!r}")
    with numpy.load(DIGITS_FILE, allow_pickle=False) as stored:
        images = stored[f"{split}_images"].astype(numpy.float32) / numpy.float32(PIXEL_MAX)
        labels = stored[f"{split}_labels"].astype(numpy.int64)
    if not flatten:
        images = images.reshape(-1, 1, 8, 8)
    return TensorDataset(images, labels)
