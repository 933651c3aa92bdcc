"""PyTorch's import path minidl.utils.data, Subset and random_split."""

from __future__ import annotations

import numpy
import pytest

import minidl as md
from minidl.utils.data import DataLoader, Dataset, Subset, TensorDataset, random_split


def test_utils_data_is_md_data():
    import minidl.utils.data as utils_data

    assert DataLoader is md.data.DataLoader and Dataset is md.data.Dataset and TensorDataset is md.data.TensorDataset
    assert utils_data.random_split is md.data.random_split and md.utils.data is utils_data


def test_subset_reads_its_parent_at_its_indices():
    ds = TensorDataset(numpy.arange(10) * 10)
    part = Subset(ds, [3, 0, 9])
    assert len(part) == 3
    assert [int(part[i][0]) for i in range(3)] == [30, 0, 90]


def test_subset_gathers_batches_through_its_parent(backend):
    ds = TensorDataset(numpy.arange(10, dtype=numpy.float32), numpy.arange(10))
    part = Subset(ds, [5, 6, 7, 8])
    (x, y), = list(DataLoader(part, batch_size=4))
    assert x.tolist() == [5.0, 6.0, 7.0, 8.0] and y.tolist() == [5, 6, 7, 8] and x.backend == backend


def test_subset_of_a_dataset_without_get_batch_stacks_samples():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return numpy.float32(i * i), numpy.int64(i)

    part = Subset(Squares(), [4, 1])
    assert not hasattr(part, "get_batch")
    (x, y), = list(DataLoader(part, batch_size=2))
    assert x.tolist() == [16.0, 1.0] and y.tolist() == [4, 1]


def test_subset_refuses_an_index_out_of_range():
    with pytest.raises(IndexError, match="out of range"):
        Subset(TensorDataset(numpy.zeros(3)), [0, 3])


def test_random_split_counts_cover_the_data_once():
    ds = TensorDataset(numpy.arange(20))
    pieces = random_split(ds, [12, 5, 3], generator=md.Generator().manual_seed(1))
    assert [len(p) for p in pieces] == [12, 5, 3]
    seen = sorted(int(p[i][0]) for p in pieces for i in range(len(p)))
    assert seen == list(range(20))


def test_random_split_fractions_give_the_remainder_as_pytorch():
    torch = pytest.importorskip("torch")
    for size, fractions in ((10, [0.5, 0.3, 0.2]), (7, [0.5, 0.5]), (11, [0.3, 0.3, 0.4])):
        ours = [len(p) for p in random_split(TensorDataset(numpy.arange(size)), fractions)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(size), fractions)]
        assert ours == theirs


def test_random_split_is_repeatable_with_a_seed():
    ds = TensorDataset(numpy.arange(10))
    md.manual_seed(3)
    first = [int(v) for v in random_split(ds, [5, 5])[0].indices]
    md.manual_seed(3)
    assert [int(v) for v in random_split(ds, [5, 5])[0].indices] == first


def test_random_split_refuses_lengths_that_do_not_add_up():
    with pytest.raises(ValueError, match="adding up"):
        random_split(TensorDataset(numpy.arange(10)), [3, 3])
    with pytest.raises(ValueError, match="adding up"):
        random_split(TensorDataset(numpy.arange(10)), [0.5, 0.2])
