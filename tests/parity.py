"""One helper that runs the same computation in minidl and in PyTorch and compares them.

In the style of tinygrad's ``helper_test_op``: give host (NumPy) arrays and two
functions, one written with minidl and one with torch (or one function, when
the spelling is the same in both), and :func:`check` compares

- the forward result: shape, dtype and values (NaN and inf where they are);
- the gradient of every floating-point input, through ``sum(out * w)`` for
  random weights ``w`` of the output's shape;
- optionally ``md.gradcheck`` (finite differences, in float64).

It runs minidl on the current backend (the ``backend`` fixture of
``tests/conftest.py`` sets it), and skips cleanly when torch is missing.
:func:`check_raises` asserts that both libraries refuse an input.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy
import pytest

import minidl as md

torch = pytest.importorskip("torch")


def _md_input(array: numpy.ndarray, grad: bool) -> md.Tensor:
    wants = grad and array.dtype.kind == "f"
    return md.tensor(array, dtype=array.dtype.name, requires_grad=wants)


def _torch_input(array: numpy.ndarray, grad: bool):
    wants = grad and array.dtype.kind == "f"
    return torch.tensor(array).requires_grad_(wants)


def _host(value: Any) -> numpy.ndarray:
    if isinstance(value, md.Tensor):
        return value.numpy()
    return value.detach().cpu().numpy()


def _dtype_name(value: Any) -> str:
    if isinstance(value, md.Tensor):
        return value.dtype.name
    return str(value.dtype).replace("torch.", "")


def _weights(shape: tuple[int, ...], seed: int) -> numpy.ndarray:
    return numpy.random.default_rng(seed).standard_normal(shape)


def check(md_fn: Callable, *arrays: numpy.ndarray, torch_fn: Callable | None = None, grad: bool = True,
          atol: float = 1e-5, rtol: float = 1e-4, check_dtype: bool = True, gradcheck: bool = False,
          seed: int = 0) -> None:
    """Run ``md_fn`` on minidl tensors and ``torch_fn`` (default: ``md_fn``) on torch tensors; compare.

    ``arrays`` are NumPy arrays; float ones become inputs that require grad (when ``grad``).
    """
    torch_fn = torch_fn or md_fn
    md_inputs = [_md_input(a, grad) for a in arrays]
    torch_inputs = [_torch_input(a, grad) for a in arrays]
    md_out, torch_out = md_fn(*md_inputs), torch_fn(*torch_inputs)
    expected, got = _host(torch_out), _host(md_out)
    assert got.shape == expected.shape, f"shape: minidl {got.shape}, torch {expected.shape}"
    if check_dtype:
        assert _dtype_name(md_out) == _dtype_name(torch_out), \
            f"dtype: minidl {_dtype_name(md_out)}, torch {_dtype_name(torch_out)}"
    numpy.testing.assert_allclose(got.astype(numpy.float64), expected.astype(numpy.float64), atol=atol, rtol=rtol,
                                  equal_nan=True, err_msg="forward values differ")
    wanted = [i for i, t in enumerate(md_inputs) if t.requires_grad]
    if not wanted or not torch_out.requires_grad:
        return
    weights = _weights(expected.shape, seed)
    (torch_out * torch.tensor(weights, dtype=torch_out.dtype)).sum().backward()
    (md_out * md.tensor(weights, dtype=md_out.dtype)).sum().backward()
    for i in wanted:
        torch_grad = torch_inputs[i].grad
        expected_grad = numpy.zeros(arrays[i].shape) if torch_grad is None else _host(torch_grad)
        got_grad = numpy.zeros(arrays[i].shape) if md_inputs[i].grad is None else md_inputs[i].grad.numpy()
        assert got_grad.shape == expected_grad.shape, f"gradient {i} shape: {got_grad.shape} vs {expected_grad.shape}"
        numpy.testing.assert_allclose(got_grad.astype(numpy.float64), expected_grad.astype(numpy.float64),
                                      atol=atol, rtol=rtol, equal_nan=True, err_msg=f"gradient of input {i} differs")
    if gradcheck:
        assert md.gradcheck(md_fn, [md.tensor(a, dtype=a.dtype.name) for a in arrays])


def check_raises(md_fn: Callable, *arrays: numpy.ndarray, torch_fn: Callable | None = None,
                 error: type[BaseException] | tuple = Exception) -> None:
    """Both libraries refuse: torch raises, and minidl raises ``error`` (never a silent answer)."""
    torch_fn = torch_fn or md_fn
    with pytest.raises(Exception):
        torch_fn(*[_torch_input(a, False) for a in arrays])
    with pytest.raises(error):
        md_fn(*[_md_input(a, False) for a in arrays])


def arrays(*shapes: Sequence[int], dtype: str = "float32", seed: int = 0, low: float | None = None) -> list:
    """Random host arrays of ``shapes`` (normal; ``abs() + low`` when ``low`` is given; ints in [-5, 5))."""
    rng = numpy.random.default_rng(seed)
    out = []
    for shape in shapes:
        if dtype == "bool":
            out.append(rng.random(shape) > 0.5)
        elif dtype.startswith("int") or dtype.startswith("uint"):
            out.append(rng.integers(0 if dtype.startswith("u") else -5, 5, size=shape).astype(dtype))
        else:
            values = rng.standard_normal(shape)
            out.append((numpy.abs(values) + low if low is not None else values).astype(dtype))
    return out
