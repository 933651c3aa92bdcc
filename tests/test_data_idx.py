"""IDX files and the MNIST-style loaders, tested offline on small files the tests write.

Downloads are exercised through ``file://`` mirrors, so no network is needed.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import os

import numpy
import pytest

import minidl as md
from minidl.data import ChecksumError, DownloadError, IdxError, read_idx, write_idx
from minidl.data import download, downloaded
from minidl.data.download import md5_of

N_TRAIN, N_TEST = 6, 4


@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
@pytest.mark.parametrize("dtype", [numpy.uint8, numpy.int16, numpy.int32, numpy.float32, numpy.float64])
def test_idx_round_trip(tmp_path, name, dtype):
    array = (numpy.arange(24).reshape(2, 3, 4) * 3).astype(dtype)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == dtype and back.shape == (2, 3, 4) and numpy.array_equal(back, array)


def test_idx_header_is_big_endian(tmp_path):
    write_idx(tmp_path / "labels", numpy.array([7, 8], dtype=numpy.uint8))
    assert (tmp_path / "labels").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 8])


def test_truncated_idx_file_is_reported_with_its_path(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    write_idx(path, numpy.zeros((3, 28, 28), dtype=numpy.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IdxError, match=rf"{path.name} is truncated: shape \(3, 28, 28\).*2352 bytes.*found 2252"):
        read_idx(path)


def test_truncated_gzip_file_is_reported(tmp_path):
    path = tmp_path / "images-idx3-ubyte.gz"
    write_idx(path, numpy.arange(2000, dtype=numpy.float64))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(IdxError, match="not a readable gzip file"):
        read_idx(path)


def test_a_file_that_is_not_idx_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, world")
    with pytest.raises(IdxError, match="not an IDX file"):
        read_idx(path)


# ---- the MNIST loader on a tiny fake MNIST -----------------------------------------------------------

def _write_fake_mnist(folder) -> dict[str, str]:
    """Four small IDX files under MNIST's names; returns name -> MD5."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = numpy.random.default_rng(0)
    sums = {}
    for prefix, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        for part, array in (("images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=numpy.uint8)),
                            ("labels-idx1-ubyte.gz", numpy.arange(n, dtype=numpy.uint8) % 10)):
            path = folder / f"{prefix}-{part}"
            write_idx(path, array)
            sums[path.name] = md5_of(path)
    return sums


def _source_with(sums: dict[str, str], mirrors: tuple[str, ...]) -> downloaded.IdxDataset:
    files = {split: {part: (name, sums[name]) for part, (name, _) in parts.items()}
             for split, parts in downloaded.MNIST.files.items()}
    return dataclasses.replace(downloaded.MNIST, files=files, mirrors=mirrors)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A folder of fake MNIST files served as a file:// mirror; md.data.mnist trusts their checksums."""
    folder = tmp_path / "mirror"
    sums = _write_fake_mnist(folder)
    monkeypatch.setattr(downloaded, "MNIST", _source_with(sums, (folder.as_uri() + "/",)))
    return folder


def test_mnist_downloads_verifies_and_loads(tmp_path, mirror):
    train = md.data.mnist(root=tmp_path / "cache", split="train")
    x, y = train.arrays
    assert x.shape == (N_TRAIN, 784) and x.dtype == numpy.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert y.tolist() == list(range(N_TRAIN))
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_mnist_images_for_a_cnn(tmp_path, mirror):
    x, _ = md.data.mnist(root=tmp_path / "cache", split="test", flatten=False).arrays
    assert x.shape == (N_TEST, 1, 28, 28)


def test_mnist_uses_minidl_data_dir(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv("MINIDL_DATA_DIR", str(tmp_path / "env"))
    md.data.mnist(split="test")
    assert (tmp_path / "env" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_default_data_home_is_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("MINIDL_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert download.data_home() == tmp_path / "minidl"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert str(download.data_home()).endswith(os.path.join(".cache", "minidl"))


def test_a_present_file_with_a_wrong_checksum_is_refused(tmp_path, mirror):
    cache = tmp_path / "cache" / "mnist"
    cache.mkdir(parents=True)
    write_idx(cache / "t10k-images-idx3-ubyte.gz", numpy.zeros((N_TEST, 28, 28), dtype=numpy.uint8))
    with pytest.raises(ChecksumError, match=r"t10k-images-idx3-ubyte.gz has MD5 .* published checksum .* Delete it"):
        md.data.mnist(root=tmp_path / "cache", split="test")


def test_a_download_with_a_wrong_checksum_leaves_nothing_behind(tmp_path, mirror, monkeypatch):
    bad = dataclasses.replace(downloaded.MNIST, files={"test": {
        "images": ("t10k-images-idx3-ubyte.gz", "0" * 32), "labels": ("t10k-labels-idx1-ubyte.gz", "0" * 32)}})
    monkeypatch.setattr(downloaded, "MNIST", bad)
    with pytest.raises(DownloadError, match="expected 00000000"):
        md.data.mnist(root=tmp_path / "cache", split="test")
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []


def test_an_interrupted_download_leaves_nothing_behind(tmp_path, mirror, monkeypatch):
    class Broken(io.RawIOBase):
        def __init__(self):
            self.calls = 0

        def read(self, size=-1):
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError("connection reset by peer")
            return b"\x1f\x8b partial"

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(download.urllib.request, "urlopen", lambda url, timeout: Broken())
    with pytest.raises(DownloadError, match="connection reset by peer"):
        md.data.mnist(root=tmp_path / "cache", split="train")
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []


def test_without_network_the_error_names_the_urls_and_where_to_put_the_files(tmp_path, monkeypatch):
    sources = ("http://127.0.0.1:9/mnist/", (tmp_path / "nowhere").as_uri() + "/")
    monkeypatch.setattr(downloaded, "MNIST", dataclasses.replace(downloaded.MNIST, mirrors=sources))
    with pytest.raises(DownloadError) as caught:
        md.data.mnist(root=tmp_path / "cache", split="train")
    message = str(caught.value)
    assert "http://127.0.0.1:9/mnist/train-images-idx3-ubyte.gz" in message
    assert "nowhere/train-images-idx3-ubyte.gz" in message
    assert f"put it at {tmp_path / 'cache' / 'mnist' / 'train-images-idx3-ubyte.gz'}" in message
    assert list((tmp_path / "cache" / "mnist").iterdir()) == []


def test_download_false_says_where_the_files_go(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"download=False.*put it at .*fashion_mnist"):
        md.data.fashion_mnist(root=tmp_path, split="test", download=False)


def test_files_put_by_hand_are_used_without_download(tmp_path, monkeypatch):
    sums = _write_fake_mnist(tmp_path / "by_hand" / "mnist")
    monkeypatch.setattr(downloaded, "MNIST", _source_with(sums, ()))
    assert len(md.data.mnist(root=tmp_path / "by_hand", split="test", download=False)) == N_TEST


def test_images_and_labels_of_different_lengths_are_refused(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte.gz", numpy.zeros((3, 28, 28), dtype=numpy.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", numpy.zeros(2, dtype=numpy.uint8))
    sums = {p.name: md5_of(p) for p in folder.iterdir()}
    sums.update({"train-images-idx3-ubyte.gz": "", "train-labels-idx1-ubyte.gz": ""})
    monkeypatch.setattr(downloaded, "MNIST", _source_with(sums, ()))
    with pytest.raises(IdxError, match=r"do not form a data set.*\(3, 28, 28\).*\(2,\)"):
        md.data.mnist(root=tmp_path, split="test")


def test_published_checksums_are_well_formed():
    for source in (downloaded.MNIST, downloaded.FASHION_MNIST):
        names = [name for parts in source.files.values() for name, _ in parts.values()]
        sums = [md5 for parts in source.files.values() for _, md5 in parts.values()]
        assert len(set(sums)) == 4 and all(len(s) == 32 and int(s, 16) >= 0 for s in sums)
        assert all(name.endswith("-ubyte.gz") for name in names)


def test_gzip_helper_matches_what_the_loader_reads(tmp_path):
    with gzip.open(tmp_path / "raw.gz", "wb") as stream:
        stream.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))
    assert read_idx(tmp_path / "raw.gz").tolist() == [1, 2, 3]
