"""md.save / md.load: round trips, atomic writes, clear errors, and no pickle ever."""

from __future__ import annotations

import os
import zipfile

import numpy
import pytest

import minidl as md
from minidl.tools import npz
from minidl.tools import serialization
from minidl.tools.serialization import SerializationError


def _state():
    return {
        "0.weight": md.randn(3, 4),
        "0.bias": md.zeros(3, dtype=md.float64),
        "steps": md.tensor([1, 2, 3]),
        "mask": md.tensor([True, False]),
        "scalar": md.tensor(2.5),
    }


def _same(a: md.Tensor, b: md.Tensor) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and numpy.array_equal(a.numpy(), b.numpy())


def test_state_dict_round_trip_keeps_values_dtypes_and_shapes(backend, tmp_path):
    state = _state()
    md.save(state, tmp_path / "model.npz")
    loaded = md.load(tmp_path / "model.npz")
    assert list(loaded) == list(state)
    for name, tensor in state.items():
        assert _same(loaded[name], tensor), name
        assert loaded[name].backend == backend


def test_nested_structures_like_an_optimizer_state_round_trip(tmp_path):
    state = {"state": {0: {"momentum": md.ones((2,)), "step": 3}},
             "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "params": [0, 1], "name": None}]}
    md.save(state, tmp_path / "opt.npz")
    loaded = md.load(tmp_path / "opt.npz")
    assert loaded["param_groups"] == state["param_groups"]
    assert list(loaded["state"]) == [0] and loaded["state"][0]["step"] == 3
    assert _same(loaded["state"][0]["momentum"], state["state"][0]["momentum"])


def test_a_single_tensor_round_trips_with_requires_grad(tmp_path):
    weight = md.randn(2, 2, requires_grad=True)
    md.save(weight, tmp_path / "w.npz")
    loaded = md.load(tmp_path / "w.npz")
    assert _same(loaded, weight) and loaded.requires_grad


def test_saved_on_one_backend_loads_on_another(tmp_path):
    with md.using_backend("array_api_strict"):
        state = _state()
        md.save(state, tmp_path / "model.npz")
    loaded = md.load(tmp_path / "model.npz", backend="numpy")
    assert all(t.backend == "numpy" for t in loaded.values())
    assert all(_same(loaded[k], state[k].to("numpy")) for k in state)
    with md.using_backend("array_api_strict"):
        assert md.load(tmp_path / "model.npz")["scalar"].backend == "array_api_strict"


def test_keys_that_would_collide_in_the_archive_stay_apart(tmp_path):
    state = {"a/b": md.ones((1,)), "a": {"b": md.zeros((1,))}, 0: md.ones((2,)), "0": md.zeros((2,)),
             serialization.MANIFEST_KEY: md.full((3,), 7.0)}
    md.save(state, tmp_path / "x.npz")
    loaded = md.load(tmp_path / "x.npz")
    assert loaded["a/b"].tolist() == [1.0] and loaded["a"]["b"].tolist() == [0.0]
    assert loaded[0].tolist() == [1.0, 1.0] and loaded["0"].tolist() == [0.0, 0.0]
    assert loaded[serialization.MANIFEST_KEY].tolist() == [7.0, 7.0, 7.0]


def test_saving_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        md.save({"w": md.ones((1,))}, tmp_path / "missing" / "x.npz")


def test_an_object_with_state_dict_is_saved_as_its_state_dict(tmp_path):
    class Holder:
        def state_dict(self):
            return {"w": md.ones((2,))}

    md.save(Holder(), tmp_path / "h.npz")
    assert list(md.load(tmp_path / "h.npz")) == ["w"]


def test_the_file_is_a_plain_npz_with_readable_names(tmp_path):
    md.save(_state(), tmp_path / "model.npz")
    with numpy.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        assert "0.weight" in archive.files and serialization.MANIFEST_KEY in archive.files


def test_a_crash_mid_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    md.save({"w": md.ones((3,))}, path)
    before = path.read_bytes()

    def crash(stream, arrays):
        stream.write(b"PK\x03\x04 half a file")
        raise RuntimeError("power cut")

    monkeypatch.setattr(npz, "write_npz", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        md.save({"w": md.zeros((3,))}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    monkeypatch.undo()
    assert md.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_an_unsavable_leaf_fails_before_touching_the_disk(tmp_path):
    with pytest.raises(TypeError, match=r"cannot store layer/fn of type builtin_function"):
        md.save({"layer": {"fn": print}}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_a_truncated_file_gives_an_error_naming_it(tmp_path):
    path = tmp_path / "model.npz"
    md.save(_state(), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(SerializationError, match=rf"{path.name} is truncated or corrupted"):
        md.load(path)


def test_corrupted_bytes_give_an_error_naming_the_file(tmp_path):
    path = tmp_path / "model.npz"
    md.save({"w": md.zeros((1000,))}, path)
    data = bytearray(path.read_bytes())
    data[1000:1010] = b"\xff" * 10  # inside the tensor's bytes: the zip CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match=rf"{path.name}.*(corrupted|CRC)"):
        md.load(path)


def test_a_file_that_is_not_npz_is_refused(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("not a model")
    with pytest.raises(SerializationError, match="notes.npz is not a minidl file"):
        md.load(path)


def test_a_plain_numpy_npz_is_refused_with_a_hint(tmp_path):
    numpy.savez(tmp_path / "plain.npz", w=numpy.ones(3))
    with pytest.raises(SerializationError, match="plain.npz is an .npz archive but not a minidl file.*numpy.load"):
        md.load(tmp_path / "plain.npz")


def test_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at"):
        md.load(tmp_path / "missing.npz")


def test_a_file_from_a_newer_format_version_asks_for_an_upgrade(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "VERSION", 99)
    md.save({"w": md.ones((1,))}, tmp_path / "new.npz")
    monkeypatch.undo()
    with pytest.raises(SerializationError, match="format version 99.*upgrade minidl"):
        md.load(tmp_path / "new.npz")


class _Payload:
    """Unpickling this would create the marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_bearing_file_is_refused_and_runs_no_code(tmp_path):
    path, marker = tmp_path / "evil.npz", tmp_path / "pwned"
    md.save({"w": md.ones((2,))}, tmp_path / "good.npz")
    evil = numpy.empty(1, dtype=object)
    evil[0] = _Payload(str(marker))
    # A valid minidl manifest, but the tensor "w" replaced by a pickled object.
    with zipfile.ZipFile(tmp_path / "good.npz") as good, zipfile.ZipFile(path, "w") as archive:
        archive.writestr(serialization.MANIFEST_KEY + ".npy", good.read(serialization.MANIFEST_KEY + ".npy"))
        with archive.open("w.npy", "w") as member:
            numpy.lib.format.write_array(member, evil, allow_pickle=True)
    with pytest.raises(SerializationError, match="evil.npz contains pickled Python objects"):
        md.load(path)
    assert not marker.exists()


def test_object_arrays_cannot_be_saved(tmp_path):
    with pytest.raises(TypeError, match="array of Python objects"):
        md.save({"bad": numpy.array([object()])}, tmp_path / "x.npz")


def test_a_model_trained_on_one_backend_loads_into_a_model_on_another(tmp_path):
    import minidl.nn as nn

    with md.using_backend("array_api_strict"):
        md.manual_seed(1)
        trained = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
        trained(md.randn(5, 3))  # updates BatchNorm's running statistics (buffers)
        md.save(trained, tmp_path / "model.npz")
        x = md.randn(2, 3)
        expected = trained.eval()(x).numpy()
    md.manual_seed(2)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(md.load(tmp_path / "model.npz"))
    assert numpy.allclose(fresh.eval()(x.to("numpy")).numpy(), expected, atol=1e-6)


def test_optimizer_state_round_trips_through_a_file(tmp_path):
    import minidl.nn as nn
    import minidl.optim as optim

    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(md.ones((4, 3))).sum().backward()
    opt.step()
    md.save(opt, tmp_path / "opt.npz")
    restored = optim.Adam(model.parameters(), lr=0.5)
    restored.load_state_dict(md.load(tmp_path / "opt.npz"))
    assert restored.param_groups[0]["lr"] == 0.01
    saved, again = opt.state_dict()["state"], restored.state_dict()["state"]
    assert list(saved) == list(again)
    for index, values in saved.items():
        for key, value in values.items():
            other = again[index][key]
            assert _same(other, value) if isinstance(value, md.Tensor) else other == value
