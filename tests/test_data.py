"""minidl.data: datasets, the DataLoader, and the bundled / synthetic data sets."""

from __future__ import annotations

import numpy
import pytest

import minidl as md
from minidl.data import DataLoader, Dataset, TensorDataset


def _numbered(n: int) -> TensorDataset:
    """Sample i is (i, 2 i), so a batch tells exactly which samples it holds."""
    return TensorDataset(numpy.arange(n), numpy.arange(n) * 2.0)


def _seen(loader: DataLoader) -> list[int]:
    return [v for x, _ in loader for v in x.tolist()]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n, batch_size", [(10, 3), (12, 4), (5, 8), (1, 1)])
def test_every_sample_exactly_once_per_epoch(backend, shuffle, n, batch_size):
    loader = DataLoader(_numbered(n), batch_size=batch_size, shuffle=shuffle, seed=1)
    for _ in range(2):
        assert sorted(_seen(loader)) == list(range(n))


def test_without_shuffle_the_order_is_the_dataset_order(backend):
    assert _seen(DataLoader(_numbered(7), batch_size=3)) == list(range(7))


def test_batches_are_tensors_on_the_current_backend_with_rows_kept_together(backend):
    x, y = next(iter(DataLoader(_numbered(10), batch_size=4, shuffle=True, seed=0)))
    assert x.backend == backend and y.backend == backend
    assert x.dtype == md.int64 and y.dtype == md.float32
    assert (y.numpy() == 2.0 * x.numpy()).all()


def test_backend_argument_overrides_the_current_backend():
    x, _ = next(iter(DataLoader(_numbered(4), batch_size=2, backend="array_api_strict")))
    assert x.backend == "array_api_strict"


def test_drop_last_skips_the_short_final_batch():
    keep = DataLoader(_numbered(10), batch_size=4)
    drop = DataLoader(_numbered(10), batch_size=4, drop_last=True)
    assert [len(x) for x, _ in keep] == [4, 4, 2] and len(keep) == 3
    assert [len(x) for x, _ in drop] == [4, 4] and len(drop) == 2


def test_same_seed_gives_the_same_epochs_and_epochs_differ():
    first, second = (DataLoader(_numbered(50), batch_size=8, shuffle=True, seed=3) for _ in range(2))
    epochs_first = [_seen(first) for _ in range(2)]
    assert epochs_first == [_seen(second) for _ in range(2)]
    assert epochs_first[0] != epochs_first[1]
    assert _seen(DataLoader(_numbered(50), batch_size=8, shuffle=True, seed=4)) != epochs_first[0]


def test_without_a_seed_shuffling_follows_manual_seed():
    md.manual_seed(5)
    order = _seen(DataLoader(_numbered(30), batch_size=30, shuffle=True))
    md.manual_seed(5)
    assert _seen(DataLoader(_numbered(30), batch_size=30, shuffle=True)) == order


def test_a_plain_dataset_is_collated_sample_by_sample(backend):
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return float(i), numpy.array([i, i * i])

    x, y = next(iter(DataLoader(Squares(), batch_size=5)))
    assert x.shape == (5,) and x.dtype == md.float32
    assert y.shape == (5, 2) and y.numpy()[3].tolist() == [3, 9]


def test_tensor_dataset_takes_tensors_and_keeps_their_dtype(backend):
    ds = TensorDataset(md.ones((3, 2), dtype=md.float64), md.tensor([1, 2, 3]))
    assert ds.arrays[0].dtype == numpy.float64 and ds.arrays[1].dtype == numpy.int64
    assert [t.backend for t in ds.tensors()] == [backend, backend]


def test_tensor_dataset_rejects_arrays_of_different_lengths():
    with pytest.raises(ValueError, match=r"same first dimension.*\(3, 2\), \(4,\)"):
        TensorDataset(numpy.zeros((3, 2)), numpy.zeros(4))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_batch_size_must_be_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_numbered(4), batch_size=batch_size)


def test_spiral_has_the_requested_classes_and_is_reproducible():
    ds = md.data.spiral(n_per_class=40, classes=4, seed=2)
    x, y = ds.arrays
    assert x.shape == (160, 2) and x.dtype == numpy.float32 and y.dtype == numpy.int64
    assert numpy.bincount(y).tolist() == [40, 40, 40, 40]
    assert numpy.abs(x).max() <= 1.0 + 1e-6  # radius grows from 0 to 1
    assert numpy.array_equal(x, md.data.spiral(n_per_class=40, classes=4, seed=2).arrays[0])
    assert not numpy.array_equal(x, md.data.spiral(n_per_class=40, classes=4, seed=3).arrays[0])


def test_digits_splits_have_the_documented_sizes_and_scale():
    train, test = md.data.digits("train"), md.data.digits("test")
    assert (len(train), len(test)) == (1438, 359)
    for ds in (train, test):
        x, y = ds.arrays
        assert x.shape[1] == 64 and x.dtype == numpy.float32 and y.dtype == numpy.int64
        assert x.min() == 0.0 and x.max() == 1.0
        assert sorted(set(y.tolist())) == list(range(10))


def test_digits_split_is_disjoint_stratified_and_covers_all_1797_images():
    with numpy.load(md.data.bundled.DIGITS_FILE, allow_pickle=False) as stored:
        train, test = stored["train_index"], stored["test_index"]
        counts_train, counts_test = numpy.bincount(stored["train_labels"]), numpy.bincount(stored["test_labels"])
    assert sorted(numpy.concatenate([train, test]).tolist()) == list(range(1797))
    assert numpy.all(numpy.abs(counts_test / (counts_train + counts_test) - 0.2) < 0.01)


def test_digits_as_images_for_a_cnn():
    x, _ = md.data.digits("test", flatten=False).arrays
    assert x.shape == (359, 1, 8, 8)


def test_digits_file_is_small_enough_to_ship():
    assert md.data.bundled.DIGITS_FILE.stat().st_size < 100_000


def test_digits_rejects_an_unknown_split():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        md.data.digits("validation")


# ---- the bundled text corpus ------------------------------------------------------------

def test_tinyshakespeare_is_bundled_checked_and_split_90_10():
    corpus = md.data.tinyshakespeare()
    assert len(corpus.text) == 1115394 and corpus.vocab_size == 65
    assert len(corpus.train) + len(corpus.val) == len(corpus.text)
    assert len(corpus.train) == int(0.9 * len(corpus.text))
    assert corpus.text.startswith("First Citizen:")
    assert corpus.decode(corpus.train[:14]) == "First Citizen:"
    assert corpus.train.dtype == numpy.int64


def test_tinyshakespeare_encode_decode_round_trip_and_unknown_character():
    corpus = md.data.tinyshakespeare()
    assert corpus.decode(corpus.encode("To be, or not to be")) == "To be, or not to be"
    with pytest.raises(ValueError, match="'~' is not in this corpus"):
        corpus.encode("~")


def test_tinyshakespeare_refuses_a_damaged_file(tmp_path, monkeypatch):
    import lzma
    from minidl.data import text

    damaged = tmp_path / "tinyshakespeare.txt.xz"
    damaged.write_bytes(lzma.compress(b"not Shakespeare"))
    monkeypatch.setattr(text, "SHAKESPEARE_FILE", damaged)
    with pytest.raises(md.data.ChecksumError, match="reinstall"):
        md.data.tinyshakespeare()


def test_char_corpus_batches_are_shifted_windows(backend):
    corpus = md.data.char_corpus("abcdefghij" * 20)
    x, y = corpus.batch("train", 4, 8, numpy.random.default_rng(0))
    assert x.shape == y.shape == (4, 8) and x.backend == backend
    numpy.testing.assert_array_equal((x.numpy() + 1) % 10, y.numpy())
