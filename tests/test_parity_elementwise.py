"""Parity with PyTorch: elementwise ops, forward and gradients, over dtypes and edge cases."""

from __future__ import annotations

import numpy
import pytest

import minidl as md
from parity import arrays, check, check_raises, torch

FLOATS = ["float32", "float64"]
SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (3,)), ((0, 3), (3,)), ((), ())]
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "mod": lambda a, b: a % b,
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_arithmetic(backend, name, shapes, dtype):
    a, b = arrays(*shapes, dtype=dtype)
    if name in ("div", "mod"):
        b = numpy.abs(b) + 0.5
    check(BINARY[name], a, b)


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64"])
def test_floor_divide_and_remainder_follow_the_divisors_sign(backend, dtype):
    a = numpy.array([[7, -7, 0, 9, -1, 12]], dtype=dtype) * numpy.array([[1], [3]], dtype=dtype)
    b = numpy.array([3, 3, 5, -4, 2, -5], dtype=dtype)
    check(lambda x, y: x // y, a, b, grad=False)
    check(lambda x, y: x % y, a, b)
    for scalar in (4, -2.5):   # Python numbers on either side
        check(lambda x: x // scalar, a, grad=False)
        check(lambda x: x % scalar, a)
        check(lambda x: 17 // x, b, grad=False)
        check(lambda x: 17 % x, b, grad=False)   # (torch has no derivative for number % tensor; minidl: -(17 // b))
    check(lambda x, y: x.remainder(y), a, b, torch_fn=lambda x, y: torch.remainder(x, y))
    check(lambda x, y: x.floor_divide(y), a, b, grad=False, torch_fn=lambda x, y: torch.floor_divide(x, y))
    # what x.fmod's message says to write, against torch.fmod (the dividend's sign), by a tensor and a number
    check(lambda x, y: md.where(x < 0, -((-x) % abs(y)), x % abs(y)), a, b, torch_fn=lambda x, y: torch.fmod(x, y))
    check(lambda x: md.where(x < 0, -((-x) % abs(-3)), x % abs(-3)), a, torch_fn=lambda x: torch.fmod(x, -3))
    for mode in ("floor", "trunc"):   # x.div(y, rounding_mode=...): values, and PyTorch's zero gradient
        check(lambda x, y: x.div(y, rounding_mode=mode), a, b)


def test_div_rounding_modes_at_the_edges(backend):
    a = numpy.array([1.0, -1.0, 7.5, 3.0, -3.0, 0.0, 2.5], dtype="float64")
    b = numpy.array([0.1, 0.1, -2.0, 0.0, 0.0, 0.0, numpy.inf], dtype="float64")
    for mode in ("floor", "trunc"):   # 1 / 0.1: floor 9 (as //), trunc 10 (trunc(a / b)); zero divisors: inf, nan
        with numpy.errstate(divide="ignore", invalid="ignore"):
            check(lambda x, y: x.div(y, rounding_mode=mode), a, b, grad=False)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_with_broadcasting(backend, name):
    a, b = arrays((3, 4), (4,))
    check(lambda x, y: getattr(md, name)(x, y), a, b, torch_fn=lambda x, y: getattr(torch, name)(x, y))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_the_gradient_as_pytorch(backend, name):
    a = numpy.array([1.0, 2.0, 3.0], dtype="float32")
    check(lambda x, y: getattr(md, name)(x, y), a, a.copy(), torch_fn=lambda x, y: getattr(torch, name)(x, y))


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_of_integers_and_bools(backend, name, dtype):
    a, b = arrays((5,), (5,), dtype=dtype)
    check(lambda x, y: getattr(md, name)(x, y), a, b, torch_fn=lambda x, y: getattr(torch, name)(x, y))


UNARY = {
    "exp": (lambda x: x.exp(), None),
    "log": (lambda x: x.log(), 0.1),
    "sqrt": (lambda x: x.sqrt(), 0.1),
    "tanh": (lambda x: x.tanh(), None),
    "sigmoid": (lambda x: x.sigmoid(), None),
    "relu": (lambda x: x.relu(), None),
    "abs": (lambda x: x.abs(), None),
    "neg": (lambda x: -x, None),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4), (), (0,), (2, 0, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(backend, name, shape, dtype):
    fn, low = UNARY[name]
    (x,) = arrays(shape, dtype=dtype, low=low)
    check(fn, x)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_at_special_values(backend, name):
    fn, _ = UNARY[name]
    x = numpy.array([0.0, -0.0, 1.0, -1.0, 50.0, -50.0, numpy.inf, -numpy.inf, numpy.nan], dtype="float32")
    check(fn, x, grad=False)


@pytest.mark.parametrize("name", ["relu", "abs", "sigmoid", "tanh"])
def test_unary_gradient_at_zero(backend, name):
    fn, _ = UNARY[name]
    check(fn, numpy.zeros((3,), dtype="float32"))


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_float_functions_of_integer_tensors_give_the_default_float(backend, name, dtype):
    fn, _ = UNARY[name]
    (x,) = arrays((4,), dtype=dtype)
    x = numpy.abs(x) if dtype != "bool" else x
    check(fn, x)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_relu_abs_neg_of_integers_keep_the_dtype_and_refuse_bools(backend, dtype):
    (x,) = arrays((6,), dtype=dtype)
    for fn in (lambda t: t.relu(), lambda t: t.abs(), lambda t: -t):
        if dtype == "bool":
            check_raises(fn, x, error=TypeError)
        else:
            check(fn, x)


def test_true_division_of_integers_gives_the_default_float(backend):
    a, b = arrays((4,), (4,), dtype="int64")
    check(lambda x, y: x / (y * y + 1), a, b)
    check(lambda x: x / 2, a)


@pytest.mark.parametrize("pair", [("int64", "int32"), ("int32", "int64"), ("bool", "int64"), ("int32", "bool"),
                                  ("uint8", "int64"), ("bool", "bool")], ids=str)
def test_integer_promotion(backend, pair):
    a, b = arrays((4,), dtype=pair[0])[0], arrays((4,), dtype=pair[1], seed=1)[0]
    check(lambda x, y: x + y, a, b)
    check(lambda x, y: x * y, a, b)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32"])
@pytest.mark.parametrize("scalar", [1, 2.5, True], ids=str)
def test_tensor_with_python_scalar(backend, dtype, scalar):
    (x,) = arrays((4,), dtype=dtype)
    check(lambda t: t + scalar, x)
    check(lambda t: scalar * t, x)


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
def test_int_tensor_with_float_tensor(backend, dtype):
    a = arrays((4,), dtype=dtype)[0]
    b = arrays((4,), dtype="float32", seed=3)[0]
    check(lambda x, y: x + y, a, b)


def test_float32_with_float64_is_refused(backend):
    a, b = arrays((3,), dtype="float32")[0], arrays((3,), dtype="float64")[0]
    with pytest.raises(TypeError, match="float widths"):
        md.tensor(a) + md.tensor(b, dtype=md.float64)


POW_CASES = {
    "positive base": (numpy.array([0.5, 1.0, 2.0], "float32"), numpy.array([2.0, 0.5, -1.5], "float32")),
    "base zero, exponent 0": (numpy.array([0.0], "float32"), numpy.array([0.0], "float32")),
    "base zero, exponent 2": (numpy.array([0.0], "float32"), numpy.array([2.0], "float32")),
    "base zero, exponent 0.5": (numpy.array([0.0], "float32"), numpy.array([0.5], "float32")),
    "negative base, integral exponent": (numpy.array([-2.0, -1.5], "float32"), numpy.array([2.0, 3.0], "float32")),
}


@pytest.mark.parametrize("case", sorted(POW_CASES))
def test_pow_tensor_tensor(backend, case):
    base, exponent = POW_CASES[case]
    check(lambda a, b: a ** b, base, exponent)


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, -1, 0.5, 2.0])
def test_pow_with_python_exponent(backend, exponent):
    x = numpy.array([0.0, 1.0, 2.5, 3.0], "float32")
    if exponent in (-1, 0.5):
        x = x[1:]
    check(lambda a: a ** exponent, x)


def test_pow_at_base_zero_with_python_exponents(backend):
    zero = numpy.zeros((2,), "float32")
    for exponent in (0, 0.0, 1, 2, 3.0):
        check(lambda a: a ** exponent, zero)


@pytest.mark.parametrize("base", [0.0, 2.0])
def test_python_scalar_to_a_tensor_power(backend, base):
    x = numpy.array([0.0, 1.0, 2.0], "float32")
    check(lambda a: base ** a, x)


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_pow_of_integers(backend, dtype):
    a = numpy.array([0, 1, 2, 3], dtype)
    check(lambda x: x ** 2, a)


CLIP_CASES = [(-0.5, 0.5), (None, 0.0), (0.0, None), (0.5, -0.5), (1.0, 1.0)]


@pytest.mark.parametrize("bounds", CLIP_CASES, ids=str)
def test_clip(backend, bounds):
    low, high = bounds
    (x,) = arrays((10,))
    check(lambda t: md.clip(t, low, high), x, torch_fn=lambda t: torch.clamp(t, low, high))


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("bounds", [(-2, 2), (3, -3), (None, 0)], ids=str)
def test_clip_of_integers(backend, dtype, bounds):
    (x,) = arrays((10,), dtype=dtype)
    check(lambda t: md.clip(t, *bounds), x, torch_fn=lambda t: torch.clamp(t, *bounds))


def test_clip_of_nan_stays_nan(backend):
    x = numpy.array([numpy.nan, 2.0, -2.0], "float32")
    check(lambda t: md.clip(t, -1.0, 1.0), x, torch_fn=lambda t: torch.clamp(t, -1.0, 1.0))


COMPARISONS = ["lt", "le", "gt", "ge", "eq", "ne"]
OPERATORS = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
             "ge": lambda a, b: a >= b, "eq": lambda a, b: a == b, "ne": lambda a, b: a != b}


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons(backend, name, dtype):
    a, b = arrays((3, 4), (4,), dtype=dtype)
    check(OPERATORS[name], a, b)
    check(lambda x: OPERATORS[name](x, 0), a)


def test_comparisons_with_nan(backend):
    a = numpy.array([numpy.nan, 1.0, numpy.inf], "float32")
    for name in COMPARISONS:
        check(OPERATORS[name], a, a.copy())


def test_where(backend):
    cond = arrays((3, 4), dtype="bool")[0]
    a, b = arrays((3, 4), (4,))
    check(lambda c, x, y: md.where(c, x, y), cond, a, b, torch_fn=lambda c, x, y: torch.where(c, x, y))


def test_where_with_a_python_scalar(backend):
    cond = arrays((5,), dtype="bool")[0]
    (a,) = arrays((5,))
    check(lambda c, x: md.where(c, x, 0.0), cond, a, torch_fn=lambda c, x: torch.where(c, x, 0.0))


def test_astype_between_floats_passes_the_gradient(backend):
    (x,) = arrays((3,))
    check(lambda t: t.astype(md.float64), x, torch_fn=lambda t: t.to(torch.float64))


def test_astype_to_int_truncates_like_pytorch(backend):
    x = numpy.array([-1.7, -0.2, 0.5, 2.9], "float32")
    check(lambda t: t.astype(md.int64), x, torch_fn=lambda t: t.to(torch.int64), grad=False)


def test_gradcheck_of_the_arithmetic(backend):
    a, b = arrays((3, 4), (4,), dtype="float64")
    check(lambda x, y: (x * y - x / (y * y + 1.0)) ** 2, a, b, gradcheck=True)


def test_integer_division_by_zero_tensor_is_float(backend):
    a = numpy.array([1, 0, -1], "int64")
    b = numpy.zeros(3, "int64")
    check(lambda x, y: x / y, a, b)


def test_bool_arithmetic_minus_is_refused(backend):
    a, b = arrays((3,), (3,), dtype="bool")
    check_raises(lambda x, y: x - y, a, b)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_clip_with_float_bounds_gives_the_default_float(backend, dtype):
    (x,) = arrays((6,), dtype=dtype)
    check(lambda t: md.clip(t, 0.5, 2.5), x, torch_fn=lambda t: torch.clamp(t, 0.5, 2.5))


@pytest.mark.parametrize("fn", [lambda x: 1 - x, lambda x: x - True, lambda x: x - x], ids=["1-b", "b-True", "b-b"])
def test_subtracting_bools_is_refused(backend, fn):
    check_raises(fn, numpy.array([True, False]), error=TypeError)
