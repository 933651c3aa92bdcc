"""``a // b`` and ``a % b``: finite differences, second order, the errors, compiled (PyTorch's values and gradients:
test_parity_elementwise.py)."""

import numpy as np
import pytest

import minidl as md
from conftest import linear_sgd_losses

# Dividends and divisors of both signs, with quotients well away from integers (the remainder jumps there).
A = [[5.3, -5.3, 3.5, -0.25], [7.9, -7.9, 0.6, 11.2]]
B = [[3.0, 3.0, -2.0, 0.7], [-2.5, -2.5, 0.4, 3.0]]


def test_remainder_gradcheck_and_second_order(backend):
    a = md.tensor(A, dtype=md.float64, requires_grad=True)
    b = md.tensor(B, dtype=md.float64, requires_grad=True)
    assert md.gradcheck(lambda x, y: x % y, [a, b])
    assert md.gradcheck(lambda x, y: (x * x) % (y * y + 1.0), [a, b])
    ((a * a) % b).sum().backward(create_graph=True)   # the formula once more, on Tensors
    np.testing.assert_array_equal(b.grad.numpy(), -np.floor_divide(a.numpy() ** 2, b.numpy()))
    first, a.grad = a.grad, None
    first.sum().backward()                            # d/da of 2a (the quotient is a constant in it)
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 4), 2.0))


def test_sign_follows_the_divisor_and_floor_rounds_down(backend):
    assert (md.tensor([5, -5, 5, -5]) % md.tensor([3, 3, -3, -3])).tolist() == [2, 1, -1, -2]
    assert (md.tensor([5, -5, 5, -5]) // md.tensor([3, 3, -3, -3])).tolist() == [1, -2, -2, 1]
    x = md.tensor([-3.5, 2.25], dtype=md.float64)
    np.testing.assert_array_equal((x // 1.0 * 1.0 + x % 1.0).numpy(), x.numpy())


def test_in_place_forms(backend):
    x = md.arange(6)
    x %= 4
    assert x.tolist() == [0, 1, 2, 3, 0, 1]
    x //= 2
    assert x.tolist() == [0, 0, 1, 1, 0, 0]


def test_floor_divide_has_no_gradient_and_says_so(backend):
    a = md.tensor([3.5, -1.2], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"floor_divide \(a // b\) has no derivative.*md.floor\(a / b\)"):
        (a // 2.0).sum().backward()
    md.floor(a / 2.0).sum().backward()   # the spelling the message offers: a zero gradient
    assert a.grad.tolist() == [0.0, 0.0]


def test_integer_division_by_zero_is_an_error(backend):
    # Number divisors everywhere; divisor arrays where the library computes eagerly on the CPU (Dask would
    # compute its whole graph; see the module docstring). NumPy values only on NumPy (elsewhere: a mixing error).
    checks_arrays = not md.backend.library(backend).lazy
    arrays = [md.tensor([1, 0, 2]), [1, 0, 2]] + ([np.int64(0), np.array([1, 0, 2])] if backend == "numpy" else [])
    for op in (lambda x, y: x % y, lambda x, y: x // y):
        with pytest.raises(ZeroDivisionError, match="integer division by zero.*divide as floats"):
            op(md.arange(3), 0)
        with pytest.raises(RuntimeError):   # what PyTorch raises, for ported `except RuntimeError`
            op(md.arange(3), 0)
        for divisor in arrays if checks_arrays else []:
            with pytest.raises(md.IntegerDivisionByZero):
                op(md.arange(3), divisor)
        if checks_arrays:
            with pytest.raises(md.IntegerDivisionByZero):
                op(7, md.tensor([1, 0]))
        assert op(md.zeros((0,), dtype=md.int64), 0).shape == (0,)   # nothing to divide: no error, as in PyTorch
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan((md.tensor([1.0]) % 0.0).item())      # floats: NaN and infinity, as in PyTorch
        assert (md.tensor([-1.0]) // 0.0).item() == -np.inf


def test_bool_operands_are_refused(backend):
    with pytest.raises(TypeError, match="remainder of a bool tensor"):
        md.tensor([True, False]) % md.tensor([True, True])


@pytest.mark.needs("eager")
def test_compiled_step_gives_the_eager_numbers(backend):
    def loss_of(y):
        return ((y % 0.7) * (y.detach() // 0.5 + 1.0)).sum()

    assert linear_sgd_losses(loss_of, compiled=True) == linear_sgd_losses(loss_of, compiled=False)


def test_div_with_a_rounding_mode(backend):
    x, y = md.tensor([7, -7, 5]), md.tensor([2, 2, -3])
    assert x.div(y, rounding_mode="floor").tolist() == [3, -4, -2]
    assert md.div(x, y, rounding_mode="trunc").tolist() == [3, -3, -1]
    assert x.div(y).tolist() == pytest.approx([3.5, -3.5, 5 / -3])
    z = md.arange(6)
    z.div_(4, rounding_mode="floor")
    assert z.tolist() == [0, 0, 0, 0, 1, 1]
    with pytest.raises(ValueError, match="rounding_mode must be None, 'floor' or 'trunc'"):
        x.div(y, rounding_mode="round")
    w = md.tensor([1.5, -2.5], requires_grad=True)
    (w.div(2.0, rounding_mode="trunc") + w).sum().backward()   # a step function: zero gradient, as in PyTorch
    assert w.grad.tolist() == [1.0, 1.0]
