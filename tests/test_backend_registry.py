"""The open registry of array libraries: selection by name, devices, capabilities, and the
behaviours that differ by library (writes, laziness, float64, indexing), each checked on the
libraries installed here."""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim
from minidl.backend import Library, capabilities, library, register

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
needs_dask = pytest.mark.skipif(importlib.util.find_spec("dask") is None, reason="dask is not installed")
needs_ndonnx = pytest.mark.skipif(importlib.util.find_spec("ndonnx") is None, reason="ndonnx is not installed")
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")


def test_every_library_has_a_record_with_its_capabilities():
    names = set(capabilities.libraries())
    assert {"numpy", "cupy", "array_api_strict", "torch", "jax", "dask", "ndonnx"} <= names
    assert library("numpy").writeable and not library("numpy").lazy
    assert not library("jax").writeable and library("dask").lazy
    assert library("torch").has("cuda") and not library("numpy").has("cuda")


def test_an_unknown_capability_is_an_error_not_false():
    with pytest.raises(ValueError, match="unknown capability"):
        library("numpy").has("writable")
    assert library("numpy").has("eager") and not library("dask").has("eager")


@pytest.mark.needs("lazy")
def test_compile_refuses_a_lazy_library_with_the_reason(backend):
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    compiled, x, y = md.compile(step), md.randn(4, 3), md.tensor([0, 1, 1, 0])
    compiled(x, y)  # the first call runs eagerly, as it does on every library
    with pytest.raises(md.CompileError, match=f"on the {backend} backend: {backend} is lazy"):
        compiled(x, y)
    # No Tensor argument, another backend current: the parameters still say which library the step runs on.
    closed = md.compile(lambda: step(x, y))
    with md.using_backend("numpy"):
        closed()
        with pytest.raises(md.CompileError, match=f"on the {backend} backend: {backend} is lazy"):
            closed()


def test_unknown_backend_names_every_known_one():
    with pytest.raises(ValueError, match="torch"):
        md.set_backend("tensorflow")


def test_register_adds_a_library_selectable_by_name_whose_arrays_are_recognised():
    # numpy again under another name: enough to see the registry treat it like a built-in
    record = Library("numpy_again", "array_api_compat.numpy", ("numpy_again_module",), "numpy")
    register(record, aliases=("again",))
    try:
        with md.using_backend("again") as name:
            assert name == "numpy_again" and md.zeros(2).backend == "numpy_again"
    finally:
        capabilities._LIBRARIES.pop("numpy_again")
        capabilities._BY_MODULE.pop("numpy_again_module")
        capabilities.BACKENDS.pop("numpy_again")
        capabilities.ALIASES.pop("again")


@needs_torch
def test_a_torch_tensor_is_recognised_as_input():
    import torch
    with md.using_backend("torch"):
        t = md.tensor(torch.arange(3.0))
    assert t.backend == "torch" and t.tolist() == [0.0, 1.0, 2.0]
    assert md.tensor(torch.ones(2), backend="numpy").backend == "numpy"  # moved through the host


@needs_torch
def test_module_to_a_device_keeps_the_library_and_the_parameters():
    import torch
    with md.using_backend("torch"):
        model = nn.Linear(3, 2)
    weight = model.weight
    model.to("cpu")                       # a device of torch's: stays on torch
    assert model.weight is weight and weight.backend == "torch"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            model.to("cuda")              # torch's GPU, not CuPy's: refused here, with the reason
    model.to("numpy")                     # a backend: moved through the host, the same Parameter object
    assert model.weight is weight and isinstance(weight.data, np.ndarray)


@needs_torch
def test_device_is_set_apart_from_the_namespace():
    with md.using_backend("torch", device="cpu"):
        assert md.backend.get_device() == "cpu" and md.zeros(2).device == "cpu"
    with pytest.raises(ValueError, match="no device 'tpu'"):
        md.set_backend("torch", device="tpu")
    with pytest.raises(ValueError, match="no device 'cuda'"):
        md.set_backend("numpy", device="cuda")


def test_array_device_reads_the_standards_attribute_and_agrees_with_array_api_compat(backend):
    import array_api_compat

    from minidl.backend import array_device

    array = md.zeros((2,)).data
    assert array_device(array) == array_api_compat.device(array)  # (Dask has no .device: compat answers)
    if hasattr(array, "device"):
        assert array_device(array) == array.device


@needs_torch
def test_cuda_names_jaxs_gpu_as_it_does_torchs():
    from minidl.backend.devices import backend_for

    assert library("jax").has("cuda") and library("jax").has("gpu")
    assert backend_for("cuda", current="jax") == "jax"      # .to("cuda") keeps a JAX program on JAX
    assert backend_for("cuda", current="torch") == "torch"
    assert backend_for("cuda", current="numpy") == "cupy"


def test_a_device_the_machine_lacks_is_refused_when_chosen():
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        md.set_backend("torch", device="cuda")


def test_writes_go_in_place_where_the_library_can(backend):
    x = md.zeros(4)
    x[1:3] = 5.0
    assert x.tolist() == [0.0, 5.0, 5.0, 0.0]


@pytest.mark.needs("writeable")
def test_set_at_writes_into_the_same_array_where_the_library_can(xp):
    array = xp.zeros((3,))
    assert md.backend.set_at(array, (slice(0, 2),), 1.0) is array
    assert md.backend.to_host(array).tolist() == [1.0, 1.0, 0.0]


@needs_jax
def test_set_at_returns_a_new_array_where_the_library_cannot():
    import jax.numpy as jnp
    array = jnp.zeros(3)
    written = md.backend.set_at(array, (slice(0, 2),), 1.0)
    assert written is not array and written.tolist() == [1.0, 1.0, 0.0] and array.tolist() == [0.0, 0.0, 0.0]


def test_negative_step_slices_work_and_differentiate(backend):
    x = md.tensor(np.arange(10.0), requires_grad=True)
    y = x[8:1:-3]
    (y * md.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert y.tolist() == [8.0, 5.0, 2.0]
    assert x.grad.tolist() == [0, 0, 3, 0, 0, 2, 0, 0, 1, 0]


def test_a_negative_step_slice_is_a_view_on_every_backend(backend):
    """On PyTorch the flip is a copy in memory, but the tensor is still a view: writes go both ways."""
    x = md.arange(6.0).reshape(2, 3)
    reversed_columns, reversed_rows = x[:, ::-1], x[::-1]
    reversed_columns[0, 0] += 10          # x[0, 2]
    x[1, 1] = -1.0
    assert x.tolist() == [[0.0, 1.0, 12.0], [3.0, -1.0, 5.0]]
    assert reversed_columns.tolist() == [[12.0, 1.0, 0.0], [5.0, -1.0, 3.0]]
    assert reversed_rows.tolist() == [[3.0, -1.0, 5.0], [0.0, 1.0, 12.0]]
    assert not reversed_columns.is_contiguous()
    a = md.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = a * 1
    b[:, ::-2].mul_(3)                    # columns 2 and 0, written through the view
    (b * b).sum().backward()
    assert a.grad.tolist() == [[18.0, 4.0, 54.0], [72.0, 10.0, 108.0]]  # PyTorch's, with b[:, [2, 0]] *= 3


def test_an_out_of_range_integer_index_raises(backend):
    x = md.arange(3)
    with pytest.raises(IndexError, match="out of range"):
        x[3]
    with pytest.raises(IndexError, match="out of range"):
        x[md.tensor([0, 5])]


def test_random_numbers_are_the_same_on_every_backend(backend):
    md.manual_seed(7)
    drawn = md.randn(5).numpy()
    md.manual_seed(7)
    with md.using_backend("numpy"):
        assert np.array_equal(drawn, md.randn(5).numpy())


def test_save_and_load_round_trip(backend, tmp_path):
    model = nn.Linear(3, 2)
    md.save(model.state_dict(), tmp_path / "m.npz")
    loaded = md.load(tmp_path / "m.npz")
    assert np.array_equal(loaded["weight"].numpy(), model.weight.numpy())


def _momentum_run(name: str) -> list:
    with md.using_backend(name):
        md.manual_seed(0)
        model = nn.Linear(4, 3)
        opt = optim.Adam(model.parameters(), lr=0.1)
        sgd = optim.SGD([nn.Parameter(md.ones(3))], lr=0.1, momentum=0.9)
        x, y = md.randn(8, 4), md.tensor([0, 1, 2, 0, 1, 2, 0, 1])
        for _ in range(3):
            opt.zero_grad(), sgd.zero_grad()
            F.cross_entropy(model(x), y).backward()
            (sgd.param_groups[0]["params"][0] ** 2).sum().backward()
            opt.step(), sgd.step()
        return [model.weight.numpy(), sgd.param_groups[0]["params"][0].numpy()]


@pytest.mark.parametrize("name", [pytest.param("jax", marks=needs_jax), pytest.param("dask", marks=needs_dask),
                                  pytest.param("ndonnx", marks=needs_ndonnx)])
def test_adam_and_momentum_on_immutable_arrays_match_numpy(name):
    for got, expected in zip(_momentum_run(name), _momentum_run("numpy")):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@needs_ndonnx
def test_gelu_on_ndonnx_matches_numpy():
    """ndonnx has no copysign, which GELU's series uses: it takes the product with sign(x) there."""
    def run(name):
        with md.using_backend(name):
            x = md.tensor([-3.0, -1.0, 0.0, 0.5, 2.0], dtype=md.float64, requires_grad=True)
            y = F.gelu(x)
            y.sum().backward()
            return y.numpy(), x.grad.numpy()

    for got, expected in zip(run("ndonnx"), run("numpy")):
        np.testing.assert_allclose(got, expected, rtol=0, atol=2e-8)  # at 0: see test_own_functions.py


@needs_jax
def test_jax_keeps_float64():
    with md.using_backend("jax"):
        x = md.tensor([1.0, 2.0], dtype=md.float64)
        assert x.dtype is md.float64 and str(x.data.dtype) == "float64"


@needs_dask
def test_dask_step_time_stays_flat():
    """Parameters are persisted once per step: step 60 costs about what step 10 does (not 6x, as a growing graph)."""
    with md.using_backend("dask"):
        md.manual_seed(0)
        model = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = md.randn(32, 16), md.tensor(np.arange(32) % 4)
        times = []
        for _ in range(60):
            start = time.perf_counter()
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
            times.append(time.perf_counter() - start)
        early, late = np.median(times[5:15]), np.median(times[50:60])
        assert late < 2.5 * early, (early, late)
        assert len(model[0].weight.data.dask) == model[0].weight.data.npartitions  # no pending graph
