"""PyTorch's random functions, dtype names and device names in minidl."""

import numpy as np
import pytest

import minidl as md


# ---- random ---------------------------------------------------------------------------------
RANDOM_CALLS = {
    "randn": lambda g: md.randn(3, 4, generator=g),
    "rand": lambda g: md.rand(5, generator=g),
    "randint": lambda g: md.randint(2, 9, (6,), generator=g),
    "randint_high": lambda g: md.randint(4, (3, 2), generator=g),
    "randperm": lambda g: md.randperm(7, generator=g),
    "multinomial": lambda g: md.multinomial(md.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 1.0]]), 2, generator=g),
    "multinomial_replacement": lambda g: md.multinomial(md.tensor([0.2, 0.8]), 5, replacement=True, generator=g),
    "normal": lambda g: md.normal(2.0, 0.5, (4,), generator=g),
    "normal_tensors": lambda g: md.normal(md.zeros(3), md.ones(3), generator=g),
    "randn_like": lambda g: md.randn_like(md.zeros(2, 2), generator=g),
    "rand_like": lambda g: md.rand_like(md.zeros(2, 2), generator=g),
    "bernoulli": lambda g: md.bernoulli(md.full((5,), 0.5), generator=g),
}


@pytest.mark.parametrize("name", sorted(RANDOM_CALLS))
def test_one_seed_gives_the_same_numbers_on_every_backend(name):
    call = RANDOM_CALLS[name]
    results = []
    for backend in ("numpy", "array_api_strict"):
        with md.using_backend(backend):
            results.append(call(md.Generator().manual_seed(5)))
            assert results[-1].backend == backend
    np.testing.assert_array_equal(results[0].numpy(), results[1].numpy())


def test_a_generator_does_not_disturb_the_shared_sequence():
    md.manual_seed(0)
    expected = md.randn(3).tolist()
    md.manual_seed(0)
    md.randn(3, generator=md.Generator().manual_seed(9))
    assert md.randn(3).tolist() == expected


def test_random_values_are_in_range():
    assert set(md.randperm(6).tolist()) == set(range(6))
    ints = md.randint(-2, 3, (200,))
    assert ints.dtype is md.long and ints.min().item() >= -2 and ints.max().item() <= 2
    drawn = md.multinomial(md.tensor([[0.0, 1.0, 1.0, 0.0]] * 3), 2)
    assert drawn.shape == (3, 2) and all(sorted(row) == [1, 2] for row in drawn.tolist())


def test_multinomial_without_replacement_refuses_too_many_draws():
    with pytest.raises(ValueError, match="replacement=True"):
        md.multinomial(md.tensor([0.5, 0.5, 0.0]), 3)


# ---- dtypes ---------------------------------------------------------------------------------
def test_pytorch_dtype_names():
    assert (md.float, md.double, md.long, md.int, md.bool) == (md.float32, md.float64, md.int64, md.int32, md.bool_)


@pytest.mark.parametrize("method, dtype", [("float", md.float32), ("double", md.float64), ("long", md.int64),
                                           ("int", md.int32), ("bool", md.bool)])
def test_conversion_methods(backend, method, dtype):
    x = md.tensor([0.0, 1.5, -2.5])
    assert getattr(x, method)().dtype is dtype
    assert x.to(dtype).dtype is dtype and x.type(dtype).dtype is dtype


def test_integer_conversion_has_no_gradient_and_float_conversion_keeps_it(backend):
    x = md.tensor([1.5, 2.5], requires_grad=True)
    assert not x.long().requires_grad
    y = x.double()
    (y * y).sum().backward()
    assert x.grad.dtype is md.float32 and x.grad.tolist() == [3.0, 5.0]


# ---- devices --------------------------------------------------------------------------------
def test_device_names_map_to_backends(backend):
    x = md.ones(2)
    assert x.device == "cpu" and str(x.device) == "cpu" and not x.is_cuda
    assert x.to("cpu") is x                     # a CPU backend stays as it is (array-api-strict too)
    assert md.zeros(2, device="cpu").backend == backend
    assert x.to("numpy").backend == "numpy"     # a backend name still picks the backend
    assert md.zeros_like(x, device="cpu").backend == backend


def test_to_takes_device_and_dtype_together():
    x = md.ones(2).to("cpu", md.float64)
    assert x.dtype is md.float64 and x.device == md.device("cpu")
    assert md.ones(2).to(x).dtype is md.float64


def test_cuda_device_refused_clearly_without_a_gpu():
    assert md.cuda.is_available() == md.is_gpu_available()
    if md.cuda.is_available():
        assert md.ones(2).to("cuda:0").backend == "cupy"
        return
    with pytest.raises(RuntimeError, match="CuPy"):
        md.ones(2).to("cuda")


def test_other_gpus_and_devices_are_refused():
    with pytest.raises(ValueError, match="one GPU"):
        md.device("cuda:1")
    with pytest.raises(ValueError, match="unknown device"):
        md.device("mps")
    assert md.backends.mps.is_available() is False  # so scripts that ask first fall back to "cpu"


def test_creation_functions_take_pytorch_forms(backend):
    assert md.arange(5).tolist() == [0, 1, 2, 3, 4] and md.arange(1, 4).tolist() == [1, 2, 3]
    assert md.arange(0.0, 1.0, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    np.testing.assert_allclose(md.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert md.full_like(md.zeros(2, dtype=md.long), 7).tolist() == [7, 7]
    assert md.ones_like(md.zeros(2, 3)).shape == (2, 3)


def test_from_numpy_and_as_tensor_keep_the_arrays_dtype(backend):
    values = np.arange(3.0)
    assert md.from_numpy(values).dtype is md.float64 and md.as_tensor(values).dtype is md.float64
    assert md.tensor(values).dtype is md.float32          # minidl's float default, unchanged
    assert md.as_tensor([1.0, 2.0]).dtype is md.float32   # Python data: the default, as torch.as_tensor
    existing = md.zeros(2)
    assert md.as_tensor(existing) is existing
