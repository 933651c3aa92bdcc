"""PyTorch's ops and spellings in minidl: forward and gradient against torch, and gradcheck, on each backend."""

import math

import numpy as np
import pytest

import minidl as md
from conftest import f64

try:
    import torch
except ImportError:  # the comparisons skip; gradcheck and the error messages still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="comparing with PyTorch needs torch installed")


def both(shape, low=None, seed=0):
    """The same float64 values as a minidl tensor and a torch tensor, both requiring grad."""
    values = np.random.default_rng(seed).standard_normal(shape)
    if low is not None:
        values = np.abs(values) + low
    return md.tensor(values, dtype=md.float64, requires_grad=True), torch.tensor(values, requires_grad=True)


def as_list(result):
    return result if isinstance(result, tuple) else (result,)


def check(md_fn, torch_fn, shape=(3, 4), low=None, grad=True):
    """Forward values (and indices) equal torch's; the gradient of sum(outputs * weights) too."""
    x, t = both(shape, low)
    ours, theirs = as_list(md_fn(x)), as_list(torch_fn(t))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    if grad:
        weights = np.random.default_rng(1).standard_normal(theirs[0].shape)
        (ours[0] * md.tensor(weights, dtype=md.float64)).sum().backward()
        (theirs[0] * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


DIFFERENTIABLE = {
    "sum_dim_keepdim": (lambda x: x.sum(dim=1, keepdim=True), lambda t: t.sum(dim=1, keepdim=True)),
    "mean_dim": (lambda x: md.mean(x, dim=0), lambda t: torch.mean(t, dim=0)),
    "max_dim": (lambda x: x.max(dim=1), lambda t: t.max(dim=1)),
    "min_dim_keepdim": (lambda x: md.min(x, 0, keepdim=True), lambda t: torch.min(t, 0, keepdim=True)),
    "max_all": (lambda x: x.max(), lambda t: t.max()),
    "amax": (lambda x: md.amax(x, dim=1), lambda t: torch.amax(t, dim=1)),
    "var": (lambda x: x.var(dim=1), lambda t: t.var(dim=1)),
    "var_biased": (lambda x: md.var(x, unbiased=False), lambda t: torch.var(t, unbiased=False)),
    "std_correction": (lambda x: x.std(dim=0, correction=0, keepdim=True),
                       lambda t: t.std(dim=0, correction=0, keepdim=True)),
    "logsumexp": (lambda x: md.logsumexp(x, dim=1), lambda t: torch.logsumexp(t, dim=1)),
    "prod": (lambda x: x.prod(dim=1), lambda t: t.prod(dim=1)),
    "cumsum": (lambda x: md.cumsum(x, dim=1), lambda t: torch.cumsum(t, dim=1)),
    "sort": (lambda x: x.sort(dim=1, descending=True), lambda t: t.sort(dim=1, descending=True)),
    "topk": (lambda x: md.topk(x, 2, dim=1), lambda t: torch.topk(t, 2, dim=1)),
    "sin": (md.sin, lambda t: torch.sin(t)), "cos": (md.cos, lambda t: torch.cos(t)),
    "erf": (md.erf, lambda t: torch.erf(t)), "expm1": (md.expm1, lambda t: torch.expm1(t)),
    "log1p_abs": (lambda x: md.log1p(x * x), lambda t: torch.log1p(t * t)),
    "rsqrt_sq": (lambda x: md.rsqrt(x * x + 1), lambda t: torch.rsqrt(t * t + 1)),
    "clamp": (lambda x: x.clamp(min=-0.5, max=0.5), lambda t: t.clamp(min=-0.5, max=0.5)),
    "view": (lambda x: x.view(2, 6), lambda t: t.view(2, 6)),
    "view_as": (lambda x: x.view_as(x.T), lambda t: t.view_as(t.T)),
    "unsqueeze": (lambda x: x.unsqueeze(1), lambda t: t.unsqueeze(1)),
    "permute": (lambda x: x.permute(1, 0), lambda t: t.permute(1, 0)),
    "transpose": (lambda x: md.transpose(x, 0, 1), lambda t: torch.transpose(t, 0, 1)),
    "flatten": (lambda x: x.reshape(3, 2, 2).flatten(1), lambda t: t.reshape(3, 2, 2).flatten(1)),
    "flatten_end": (lambda x: x.reshape(3, 2, 2).flatten(0, 1), lambda t: t.reshape(3, 2, 2).flatten(0, 1)),
    "squeeze_all": (lambda x: x.view(3, 1, 4).squeeze(), lambda t: t.view(3, 1, 4).squeeze()),
    "expand": (lambda x: x[:, :1].expand(-1, 5), lambda t: t[:, :1].expand(-1, 5)),
    "repeat": (lambda x: x.repeat(2, 1, 3), lambda t: t.repeat(2, 1, 3)),
    "split": (lambda x: md.split(x, 3, dim=1), lambda t: torch.split(t, 3, dim=1)),
    "split_sizes": (lambda x: x.split([1, 3], dim=1), lambda t: t.split([1, 3], dim=1)),
    "chunk": (lambda x: x.chunk(2, dim=0), lambda t: t.chunk(2, dim=0)),
    "cat": (lambda x: md.cat([x, x * 2], dim=1), lambda t: torch.cat([t, t * 2], dim=1)),
    "stack": (lambda x: md.stack([x, x * 2], dim=1), lambda t: torch.stack([t, t * 2], dim=1)),
    "flip": (lambda x: md.flip(x, dim=0), lambda t: torch.flip(t, (0,))),
    "roll": (lambda x: md.roll(x, 1, dim=1), lambda t: torch.roll(t, 1, dims=1)),
    "roll_flat": (lambda x: md.roll(x, 2), lambda t: torch.roll(t, 2)),
    "tril": (lambda x: md.tril(x), lambda t: torch.tril(t)), "triu_k": (lambda x: x.triu(1), lambda t: t.triu(1)),
    "masked_fill": (lambda x: x.masked_fill(x > 0.3, -1.0), lambda t: t.masked_fill(t > 0.3, -1.0)),
    "gather": (lambda x: md.gather(x, 1, md.tensor([[0, 0], [3, 1], [2, 2]])),
               lambda t: torch.gather(t, 1, torch.tensor([[0, 0], [3, 1], [2, 2]]))),
    "scatter_add": (lambda x: md.scatter_add(x * 0, 0, md.tensor([[0, 1, 0, 2], [0, 0, 0, 0]]), x[:2]),
                    lambda t: torch.scatter_add(t * 0, 0, torch.tensor([[0, 1, 0, 2], [0, 0, 0, 0]]), t[:2])),
    "pad": (lambda x: md.pad(x, (1, 2, 0, 1), value=0.5),
            lambda t: torch.nn.functional.pad(t, (1, 2, 0, 1), value=0.5)),
    "where_scalar": (lambda x: md.where(x > 0, x, 0.0), lambda t: torch.where(t > 0, t, 0.0)),
    "maximum": (lambda x: md.max(x, x.flip(0)), lambda t: torch.max(t, t.flip(0))),
    "clone": (lambda x: x.clone() * 2, lambda t: t.clone() * 2),
    "t": (lambda x: x.t(), lambda t: t.t()),
    "unbind": (lambda x: x.unbind(dim=1), lambda t: t.unbind(dim=1)),
    "view_as_expand_as": (lambda x: x[:, :1].expand_as(x).reshape_as(x.T).mul(2.0).add(x.T).div(3.0).sub(1.0).neg(),
                          lambda t: t[:, :1].expand_as(t).reshape_as(t.T).mul(2.0).add(t.T).div(3.0).sub(1.0).neg()),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_forward_and_gradient_match_torch(backend, name):
    ours, theirs = DIFFERENTIABLE[name]
    check(ours, theirs)


NO_GRADIENT = {
    "argmax": (lambda x: md.argmax(x, dim=1), lambda t: torch.argmax(t, dim=1)),
    "argmax_flat": (lambda x: x.argmax(), lambda t: t.argmax()),
    "argmin_keepdim": (lambda x: x.argmin(dim=0, keepdim=True), lambda t: t.argmin(dim=0, keepdim=True)),
    "argsort": (lambda x: x.argsort(dim=1), lambda t: t.argsort(dim=1)),
    "any": (lambda x: (x > 1).any(dim=1), lambda t: (t > 1).any(dim=1)),
    "all": (lambda x: md.all(x > -3), lambda t: torch.all(t > -3)),
    "isfinite": (lambda x: md.isfinite(x / (x > 0)), lambda t: torch.isfinite(t / (t > 0))),
    "isinf": (lambda x: md.isinf(x / (x > 0)), lambda t: torch.isinf(t / (t > 0))),
    "isnan": (lambda x: md.isnan(md.log(x)), lambda t: torch.isnan(torch.log(t))),
    "sign": (md.sign, lambda t: torch.sign(t)), "floor": (md.floor, lambda t: torch.floor(t)),
    "ceil": (md.ceil, lambda t: torch.ceil(t)),
    "round": (lambda x: md.round(x * 4), lambda t: torch.round(t * 4)),
    "eq_and_friends": (lambda x: x.gt(0).eq(x.ge(0.1)).ne(x.lt(-0.1)).eq(x.le(0)),
                       lambda t: t.gt(0).eq(t.ge(0.1)).ne(t.lt(-0.1)).eq(t.le(0))),
    "type_as": (lambda x: x.round().type_as(md.zeros(1, dtype=md.long)),
                lambda t: t.round().type_as(torch.zeros(1, dtype=torch.long))),
    "one_hot": (lambda x: md.one_hot(md.argmax(x, dim=1), 5),
                lambda t: torch.nn.functional.one_hot(torch.argmax(t, dim=1), 5)),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the inputs divide by zero and log negatives on purpose
@needs_torch
@pytest.mark.parametrize("name", sorted(NO_GRADIENT))
def test_values_match_torch(backend, name):
    ours, theirs = NO_GRADIENT[name]
    check(ours, theirs, grad=False)


@pytest.mark.parametrize("op", [md.sin, md.erf, md.expm1, lambda x: md.logsumexp(x, dim=0),
                                lambda x: x.prod(dim=1), lambda x: md.cumsum(x, dim=0),
                                lambda x: md.std(x, dim=1), lambda x: md.pad(x, (1, 1)),
                                lambda x: md.gather(x, 0, md.tensor([[2, 0, 1, 1]]))])
def test_gradcheck(backend, op):
    assert md.gradcheck(op, [f64(3, 4)])


@needs_torch
def test_prod_gradient_is_exact_at_zeros(backend):
    x, t = both((2, 3))
    with md.no_grad():
        x[0, 1] = 0.0  # through the Tensor: on an immutable array library its array is replaced
        x[1, 0] = 0.0
        x[1, 2] = 0.0
    with torch.no_grad():
        t[0, 1] = 0.0
        t[1, 0] = 0.0
        t[1, 2] = 0.0
    x.prod(dim=1).sum().backward()
    t.prod(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


def test_erf_matches_math_erf_to_1e12():
    values = np.linspace(-6, 6, 2001)
    ours = md.erf(md.tensor(values, dtype=md.float64)).numpy()
    np.testing.assert_allclose(ours, [math.erf(v) for v in values], rtol=0, atol=1e-12)


def test_size_is_the_element_count_and_size_call_explains(backend):
    x = md.zeros(2, 3)
    assert x.size == 6 and x.numel() == 6 and x.shape == (2, 3) and x.dim() == 2
    with pytest.raises(TypeError, match=r"write x.shape\[1\]"):
        x.size(1)


def test_missing_pytorch_attribute_names_minidl_spelling():
    with pytest.raises(AttributeError, match=r"x.transpose\(dim0, dim1\)"):
        md.zeros(2, 2).swapaxes
    with pytest.raises(AttributeError, match="has no attribute 'frobnicate'"):
        md.zeros(2).frobnicate


def test_unknown_keyword_names_what_is_accepted():
    with pytest.raises(TypeError, match="out=.*takes: axis, keepdims, x"):
        md.sum(md.zeros(2), out=None)
    with pytest.raises(TypeError, match="both axis= and dim="):
        md.sum(md.zeros(2), axis=0, dim=0)


def test_max_with_axis_keeps_the_standard_answer_and_dim_gives_indices():
    x = md.tensor([[1.0, 5.0], [7.0, 2.0]])
    assert x.max(axis=1).tolist() == [5.0, 7.0]
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.max(1).indices.tolist() == [1, 0]


def test_where_with_two_numbers_follows_torch_dtypes(backend):
    x = md.tensor([1.0, -2.0, 3.0])
    assert md.where(x > 0, 1.0, 0.0).dtype is md.float32
    ints = md.where(x > 0, 1, 0)
    assert ints.dtype is md.long and ints.tolist() == [1, 0, 1]


SECOND_ORDER = {
    "sin": (md.sin, lambda t: torch.sin(t)),
    "erf": (md.erf, lambda t: torch.erf(t)),
    "cumsum": (lambda x: md.cumsum(x, dim=0) * x, lambda t: torch.cumsum(t, dim=0) * t),
    "flip": (lambda x: md.flip(x, dim=0) * x, lambda t: torch.flip(t, (0,)) * t),
    "roll": (lambda x: md.roll(x, 1) * x, lambda t: torch.roll(t, 1) * t),
    "max_dim": (lambda x: x.max(dim=0).values * x.sum(), lambda t: t.max(dim=0).values * t.sum()),
    "logsumexp": (lambda x: md.logsumexp(x, dim=0) * x, lambda t: torch.logsumexp(t, dim=0) * t),
    "std": (lambda x: x.std() * x, lambda t: t.std() * t),
    "rsqrt": (lambda x: md.rsqrt(x * x + 1.0), lambda t: torch.rsqrt(t * t + 1.0)),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_torch(backend, name):
    ours, theirs = SECOND_ORDER[name]
    x, t = both((4,))
    (ours(x) ** 2).sum().backward(create_graph=True)
    first, x.grad = x.grad, None
    first.sum().backward()
    (grad,) = torch.autograd.grad((theirs(t) ** 2).sum(), t, create_graph=True)
    grad.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_creation_takes_size_and_refuses_pytorch_only_keywords_with_advice(backend):
    assert md.randn(size=(2, 3)).shape == (2, 3) and md.zeros(size=[4]).shape == (4,)
    with pytest.raises(TypeError, match="no pinned host memory"):
        md.zeros(2, pin_memory=True)


def test_roll_without_dims_takes_one_shift():
    assert md.roll(md.arange(4), 1).tolist() == [3, 0, 1, 2]
    with pytest.raises(ValueError, match="one shift"):
        md.roll(md.arange(4), (1, 2))


def test_erf_in_float32_is_correct_to_float32_rounding(backend):
    values = np.linspace(-8, 8, 4001).astype(np.float32)
    ours = md.erf(md.tensor(values)).numpy()
    assert ours.dtype == np.float32
    # minidl's series: half a float32 step at 1; a library's own erf: its own accuracy (JAX's within 3e-7)
    tolerance = 6e-8 if md.backend.library(backend).erf is None else 4e-7
    np.testing.assert_allclose(ours, [math.erf(float(v)) for v in values], rtol=0, atol=tolerance)


def test_a_missing_in_place_method_names_the_out_of_place_one():
    x = md.ones(2)
    if hasattr(x, "clamp_"):  # in-place methods exist: nothing to explain
        return
    with pytest.raises(AttributeError, match=r"x = x.clamp\(...\)"):
        x.clamp_(0, 1)
