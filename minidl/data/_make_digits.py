"""Build ``digits.npz``, the copy of the 8x8 handwritten digits that ships inside minidl.

Run once, by a maintainer, with scikit-learn installed (it is not needed
afterwards): ``python -m minidl.data._make_digits``.

Origin: the test set of the UCI "Optical Recognition of Handwritten Digits"
data set (E. Alpaydin, C. Kaynak, 1998;
https://archive.ics.uci.edu/ml/datasets/Optical+Recognition+of+Handwritten+Digits),
licensed CC BY 4.0, as bundled with scikit-learn (``sklearn.datasets.load_digits``):
1797 images of 8x8 pixels with integer values 0..16, ten classes.

The split is fixed here, once, and stored in the file (so it never depends on
a random generator's version): for each class separately, its samples are
shuffled with ``numpy.random.default_rng(0)`` and the first ``round(0.2 * n)``
go to the test split. That gives 1438 training and 359 test samples, with
every digit in the same proportion in both.
"""

from __future__ import annotations

from pathlib import Path

import numpy

TEST_FRACTION = 0.2
SEED = 0
OUTPUT = Path(__file__).with_name("digits.npz")


def stratified_split(labels: numpy.ndarray, test_fraction: float, seed: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Row indices (train, test), each sorted, with every class split in the same proportion."""
    rng = numpy.random.default_rng(seed)
    train, test = [], []
    for label in numpy.unique(labels):
        rows = rng.permutation(numpy.flatnonzero(labels == label))
        n_test = int(round(test_fraction * rows.size))
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    return numpy.sort(numpy.concatenate(train)), numpy.sort(numpy.concatenate(test))


def main() -> None:
    from sklearn.datasets import load_digits  # build-time only

    bunch = load_digits()
    images = bunch.data.astype(numpy.uint8)  # integers 0..16, stored exactly
    labels = bunch.target.astype(numpy.uint8)
    assert images.shape == (1797, 64) and int(images.max()) == 16
    train, test = stratified_split(labels, TEST_FRACTION, SEED)
    numpy.savez_compressed(
        OUTPUT,
        train_images=images[train], train_labels=labels[train], train_index=train.astype(numpy.uint16),
        test_images=images[test], test_labels=labels[test], test_index=test.astype(numpy.uint16),
    )
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes): {train.size} train, {test.size} test samples")


if __name__ == "__main__":
    main()
