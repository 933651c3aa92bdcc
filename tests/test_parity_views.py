"""Views share values with their base, as in PyTorch: forward values, write-through both ways, gradients.

Each case runs the same function through minidl (on the backend fixture) and through PyTorch
(`tests/parity.py`): the view itself, a view written into in place (its base must change), a base
written into in place (its views must change), with the gradients of the whole computation; then
PyTorch's rules for views (view or copy, refusals, version counters), finite differences, and the
places where a library updates tensors in place (optimizers, load_state_dict, BatchNorm).
"""

from __future__ import annotations

import numpy
import pytest

import minidl as md
import minidl.nn as nn
from parity import arrays, check, torch

# name -> (function of a tensor of shape (3, 4, 5) giving a view; the same in minidl and PyTorch)
VIEWS = {
    "int index": lambda t: t[1],
    "slice": lambda t: t[:, 1:3],
    "step slice": lambda t: t[::2, :, 1::2],
    "int and slice": lambda t: t[2, 1:, :3],
    "ellipsis": lambda t: t[..., 0],
    "None": lambda t: t[:, None, 1],
    "transpose": lambda t: t.transpose(0, 2),
    "permute": lambda t: t.permute(2, 0, 1),
    "mT": lambda t: t.mT,
    "T of a matrix": lambda t: t[0].T,
    "t()": lambda t: t[1].t(),
    "reshape": lambda t: t.reshape(12, 5),
    "view": lambda t: t.view(3, 20),
    "view -1": lambda t: t.view(-1),
    "flatten": lambda t: t.flatten(1),
    "unsqueeze": lambda t: t.unsqueeze(1),
    "squeeze": lambda t: t[:, :1].squeeze(1),
    "narrow": lambda t: t.narrow(1, 1, 2),
    "narrow negative start": lambda t: t.narrow(2, -3, 2),
    "select": lambda t: t.select(1, -2),
    "diagonal": lambda t: t.diagonal(),
    "diagonal offset": lambda t: t.diagonal(1, 1, 2),
    "diagonal below": lambda t: t.diagonal(-1, 2, 0),
    "view of a transpose": lambda t: t.transpose(1, 2).reshape(3, 5, 2, 2),
    "slice of a transpose": lambda t: t.transpose(0, 1)[1:3, ::2],
    "diagonal of a slice": lambda t: t[:, 1:].diagonal(0, 1, 2),
    "narrow of a permute": lambda t: t.permute(1, 2, 0).narrow(0, 2, 2),
}

# name -> in-place change of a tensor (minidl and PyTorch spell them the same). None uses the tensor's own
# value in an op that saves it (v.copy_(v * v)): PyTorch then refuses backward, minidl keeps the old value
# for that op (a documented difference, docs/pytorch-parity.md)
WRITES = {
    "+=": lambda v: v.__iadd__(1.5),
    "mul_": lambda v: v.mul_(2.0),
    "setitem": lambda v: v.__setitem__(..., 0.25),
    "zero_": lambda v: v.zero_(),
    "copy_": lambda v: v.copy_(v * 3.0 - 1.0),
    "clamp_": lambda v: v.clamp_(-0.5, 0.5),
    "sub_ of a tensor": lambda v: v.sub_(v * 0.5 + 1.0),
}


def _libraries(lib):
    return (md.cat, (lambda t: t.reshape(-1))) if lib is md else (torch.cat, (lambda t: t.reshape(-1)))


def _both(base, view, lib):
    cat, flat = _libraries(lib)
    return cat([flat(base), flat(view)])


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_view_values_and_gradients(backend, view):
    (x,) = arrays((3, 4, 5))
    check(view, x)


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_writing_into_a_view_changes_its_base(backend, view, write):
    (x,) = arrays((3, 4, 5), seed=1)

    def run(lib):
        def fn(t):
            base = t * 1.0          # not a leaf: writes are recorded, gradients flow through them
            v = view(base)
            write(v)
            return _both(base, v, lib)
        return fn
    check(run(md), x, torch_fn=run(torch))


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_writing_into_a_base_changes_its_views(backend, view, write):
    (x,) = arrays((3, 4, 5), seed=2)

    def run(lib):
        def fn(t):
            base = t * 1.0
            v = view(base)
            used_before = v * 2.0   # used before the change: its gradient goes through the old value
            write(base)
            return _both(used_before, v, lib)
        return fn
    check(run(md), x, torch_fn=run(torch))


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_writes_without_grad_go_through_both_ways(backend, view):
    (x,) = arrays((3, 4, 5), seed=3)
    mine, theirs = md.tensor(x), torch.tensor(x)
    for t in (mine, theirs):
        view(t).mul_(-1.0)
        t[0] += 2.0
    numpy.testing.assert_allclose(mine.numpy(), theirs.numpy())
    numpy.testing.assert_allclose(view(mine).numpy(), view(theirs).numpy())


def test_two_views_of_one_base_see_each_others_writes(backend):
    (x,) = arrays((4, 4), seed=4)
    results = []
    for t in (md.tensor(x), torch.tensor(x)):
        row, column, diagonal = t[1], t[:, 2], t.diagonal()
        row += 10.0
        column.mul_(-1.0)
        diagonal.zero_()
        results.append([numpy.asarray(v.tolist()) for v in (t, row, column, diagonal)])
    for got, expected in zip(*results):
        numpy.testing.assert_allclose(got, expected)


def test_writes_into_a_view_of_a_view_reach_the_middle_view(backend):
    (x,) = arrays((4, 5), seed=11)
    results = []
    for t in (md.tensor(x), torch.tensor(x)):
        middle = t[1:]
        inner = middle.T[2]
        inner.fill_(3.0)
        middle[0].mul_(2.0)
        results.append([numpy.asarray(v.tolist()) for v in (t, middle, inner)])
    for got, expected in zip(*results):
        numpy.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("index", [[0, 2], "mask"])
def test_advanced_index_assignment_into_a_view(backend, index):
    if backend == "array_api_strict" and index != "mask":
        pytest.skip("x[int_tensor] = v is not supported on array-api-strict (no fancy __setitem__; a gap outside views)")
    (x,) = arrays((3, 4), seed=12)
    results = []
    for lib, t in ((md, md.tensor(x)), (torch, torch.tensor(x))):
        row = t[1]
        key = lib.tensor([0, 2]) if index != "mask" else row > 0
        row[key] = -1.0
        results.append(t.numpy())
    numpy.testing.assert_allclose(*results)


def test_unbind_outputs_write_into_their_base(backend):
    t = md.zeros((2, 3))
    first, second = t.unbind(0)
    second += 4.0
    assert t.tolist() == [[0.0, 0.0, 0.0], [4.0, 4.0, 4.0]]


def test_a_view_of_a_view_writes_into_the_first_base(backend):
    (x,) = arrays((2, 3, 4), seed=5)
    results = []
    for t in (md.tensor(x), torch.tensor(x)):
        inner = t.transpose(0, 2)[1:3].reshape(2, 6)  # a view of a view of a view
        inner[:, ::2] = -7.0
        results.append(t.numpy())
    numpy.testing.assert_allclose(*results)


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_write_through_matches_finite_differences(backend, view):
    (x,) = arrays((3, 4, 5), seed=6)

    def fn(t):
        base = t * 1.0
        v = view(base)
        v.mul_(v)
        base.add_(base.sin())
        return md.cat([base.reshape(-1), v.reshape(-1)])
    assert md.gradcheck(fn, [md.tensor(x, dtype=md.float64)])


@pytest.mark.parametrize("view", [VIEWS["slice"], VIEWS["diagonal offset"], VIEWS["view of a transpose"]],
                         ids=["slice", "diagonal offset", "view of a transpose"])
def test_second_derivative_through_a_write(backend, view):
    (x,) = arrays((3, 4, 5), seed=7)
    results = []
    for lib in (md, torch):
        t = md.tensor(x, dtype=md.float64, requires_grad=True) if lib is md else \
            torch.tensor(x, dtype=torch.float64, requires_grad=True)
        base = t * 1.0
        v = view(base)
        v.mul_(-2.0)
        loss = (base ** 3).sum()
        if lib is md:
            loss.backward(create_graph=True)
            g = t.grad
            t.grad = None
            (g * g).sum().backward()
            results.append(t.grad.numpy())
        else:
            (g,) = torch.autograd.grad(loss, t, create_graph=True)
            (g * g).sum().backward()
            results.append(t.grad.numpy())
    numpy.testing.assert_allclose(*results, rtol=1e-9)


# ---- view or copy, as PyTorch decides ------------------------------------------------------------------
COPY_OR_VIEW = {
    "reshape of a transpose (copies)": lambda t: t.T.reshape(-1),
    "reshape of a column slice (copies)": lambda t: t[:, :2].reshape(-1),
    "reshape of a transpose that keeps runs (view)": lambda t: t.T.reshape(4, 1, 3),
    "reshape of a row slice (view)": lambda t: t[1:].reshape(-1),
    "flatten of a transpose (copies)": lambda t: t.T.flatten(),
    "contiguous of a transpose (copies)": lambda t: t.T.contiguous(),
    "contiguous of a row (view)": lambda t: t[1].contiguous(),
    "clone (copies)": lambda t: t.clone(),
}


@pytest.mark.parametrize("make", COPY_OR_VIEW.values(), ids=COPY_OR_VIEW.keys())
def test_view_or_copy_as_pytorch(backend, make):
    (x,) = arrays((3, 4), seed=8)
    results = []
    for t in (md.tensor(x), torch.tensor(x)):
        made = make(t)
        made.add_(100.0)
        results.append((t.numpy(), made.is_contiguous()))
    numpy.testing.assert_allclose(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


IS_CONTIGUOUS = {
    "base": lambda t: t, "row": lambda t: t[1], "column": lambda t: t[:, 1], "T": lambda t: t.T,
    "rows": lambda t: t[1:], "columns": lambda t: t[:, 1:], "step": lambda t: t[::2],
    "unsqueeze of T": lambda t: t.T.unsqueeze(0), "expand": lambda t: t[:1].expand(5, 4),
    "diagonal": lambda t: t.diagonal(), "one column kept": lambda t: t[:, 1:2],
}


@pytest.mark.parametrize("make", IS_CONTIGUOUS.values(), ids=IS_CONTIGUOUS.keys())
def test_is_contiguous_as_pytorch(backend, make):
    (x,) = arrays((3, 4))
    assert make(md.tensor(x)).is_contiguous() == make(torch.tensor(x)).is_contiguous()


@pytest.mark.parametrize("make", [lambda t: t.T.view(-1), lambda t: t[:, 1:].view(9),
                                  lambda t: t.permute(1, 0).view(2, 6)], ids=["T", "columns", "permute"])
def test_view_of_a_non_contiguous_tensor_refuses_as_pytorch(backend, make):
    (x,) = arrays((3, 4))
    with pytest.raises(RuntimeError):
        make(torch.tensor(x))
    with pytest.raises(RuntimeError, match="view size is not compatible.*use .reshape"):
        make(md.tensor(x))


def test_view_as_a_dtype_is_refused_with_advice(backend):
    with pytest.raises(TypeError, match="astype"):
        md.ones((2, 2)).view(md.int32)


def test_writing_into_an_expanded_view_refuses_as_pytorch(backend):
    for t in (md.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])):
        with pytest.raises(RuntimeError, match="single memory location"):
            t.expand(3, 2).add_(1.0)


def test_writing_into_a_slice_of_an_expanded_view_refuses_and_says_why():
    # a deliberate difference (docs/pytorch-parity.md): PyTorch writes into x here; minidl refuses
    with pytest.raises(RuntimeError, match="taken from an expand-ed.*clone"):
        md.zeros((4,)).expand(3, 4)[0].add_(1.0)


def test_writing_into_a_view_of_a_leaf_that_requires_grad_refuses_as_pytorch(backend):
    for lib in (md, torch):
        w = lib.ones((2, 3), requires_grad=True)
        with pytest.raises(RuntimeError, match="view of a leaf"):
            w[0].add_(1.0)
        with lib.no_grad():  # an update: allowed, and the leaf stays a leaf
            w[0].add_(1.0)
            w.T[2].mul_(3.0)
        assert w.is_leaf and w.requires_grad
        assert w.tolist() == [[2.0, 2.0, 6.0], [1.0, 1.0, 3.0]]


# ---- version counters and saved values ----------------------------------------------------------------
def test_a_base_and_its_views_share_one_version_counter(backend):
    versions = []
    for lib in (md, torch):
        t = lib.zeros((3, 3))
        row, detached = t[0], t.detach()
        seen = []
        for change in (lambda: row.add_(1.0), lambda: t.mul_(2.0), lambda: detached.zero_(),
                       lambda: t.T[1].fill_(4.0)):
            change()
            seen.append((t._version, row._version, detached._version))
        versions.append(seen)
    assert versions[0] == versions[1]


def test_a_saved_view_changed_through_its_base_refuses_backward_as_pytorch(backend):
    for lib in (md, torch):
        a = lib.ones((2, 3), requires_grad=True)
        base = a * 2.0
        v = base[0]
        loss = (v * v).sum()        # Multiply saves v
        with lib.no_grad():
            base.add_(1.0)          # ... which changes, unrecorded, through its base
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


def test_detach_shares_values_and_version_with_its_source(backend):
    for lib in (md, torch):
        w = lib.ones((3,), requires_grad=True)
        loss = (w * w).sum()
        w.detach().mul_(5.0)        # allowed on a leaf, as in PyTorch: the values change ...
        assert w.tolist() == [5.0, 5.0, 5.0]
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()         # ... and a graph that saved them refuses


def test_adding_a_tensor_that_requires_grad_into_a_detached_view_records_on_the_view_only(backend):
    results = []
    for lib in (md, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = lib.ones((3,))
        d = a.detach()
        d.add_(x)
        assert d.requires_grad and not a.requires_grad
        (d * d).sum().backward()
        results.append((a.tolist(), x.grad.tolist()))
    assert results[0] == results[1]


def test_a_view_made_under_no_grad_refuses_a_recorded_in_place_change_as_pytorch(backend):
    for lib in (md, torch):
        base = lib.ones((2, 3), requires_grad=True) * 1.0
        with lib.no_grad():
            row = base[0]
        with pytest.raises(RuntimeError, match="no_grad mode"):
            row.mul_(2.0)
        with lib.no_grad():
            row.mul_(2.0)       # both inside no_grad: allowed, unrecorded
        assert base.tolist() == [[2.0, 2.0, 2.0], [1.0, 1.0, 1.0]]


def test_a_detached_leaf_that_requires_grad_refuses_in_place_change(backend):
    for lib in (md, torch):
        d = lib.ones((2,)).detach().requires_grad_()
        with pytest.raises(RuntimeError, match="leaf"):
            d.add_(1.0)


# ---- what updates tensors in place ------------------------------------------------------------------
def test_an_optimizer_step_is_seen_by_views_of_parameters_as_pytorch(backend):
    (x,) = arrays((3, 2), seed=9)
    results = []
    for lib, optim in ((md, md.optim), (torch, torch.optim)):
        w = (nn.Parameter if lib is md else torch.nn.Parameter)(lib.tensor(x) if lib is md else torch.tensor(x))
        opt = optim.SGD([w], lr=0.5, momentum=0.9)
        row, transposed = w[1], w.T
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        results.append((w.tolist(), row.tolist(), transposed.tolist(), w._version == row._version))
    assert results[0][3] and results[1][3]
    for got, expected in zip(results[0][:3], results[1][:3]):
        numpy.testing.assert_allclose(got, expected, rtol=1e-6)


def test_a_view_of_a_parameter_made_before_a_step_still_carries_gradients(backend):
    results = []
    for lib, optim in ((md, md.optim), (torch, torch.optim)):
        w = (nn.Parameter if lib is md else torch.nn.Parameter)(lib.ones((2, 3)))
        opt = optim.SGD([w], lr=0.5)
        row, column = w[0], w.T[1]
        (w * w).sum().backward()
        opt.step()
        opt.zero_grad()
        with lib.no_grad():
            w.mul_(2.0)            # another unrecorded change
        ((row * 3.0).sum() + (column * column).sum()).backward()
        results.append((w.grad.tolist(), row.tolist(), row._version))
    assert results[0] == results[1]


def test_a_graph_built_before_a_step_refuses_backward_through_a_view(backend):
    w = nn.Parameter(md.ones((2, 2)))
    opt = md.optim.SGD([w], lr=0.1)
    row = w[0]
    loss = (row * row).sum()
    (w * w).sum().backward()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_reshape_that_copies_does_not_follow_an_optimizer_step(backend):
    results = []
    for lib, optim in ((md, md.optim), (torch, torch.optim)):
        w = (nn.Parameter if lib is md else torch.nn.Parameter)(lib.ones((2, 3)))
        with lib.no_grad():
            w.T.mul_(2.0)       # (w's array may now be a transposed one, whose .T is contiguous in memory)
        flat = w.T.reshape(-1)  # a copy: w.T is not contiguous
        opt = optim.SGD([w], lr=0.5)
        (w * w).sum().backward()
        opt.step()
        results.append((flat.tolist(), w.tolist()))
    assert results[0] == results[1]


def test_load_state_dict_copies_into_the_same_parameters(backend):
    model = nn.Linear(3, 2)
    weight, first_row = model.weight, model.weight[0]
    model.load_state_dict({"weight": md.ones((2, 3)), "bias": md.zeros((2,))})
    assert model.weight is weight
    assert first_row.tolist() == [1.0, 1.0, 1.0]


def test_batch_norm_updates_its_running_statistics_in_place(backend):
    (x,) = arrays((8, 3), seed=10)
    results = []
    for module in (nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)):
        running = module.running_mean
        first = running[:2]
        module(md.tensor(x) if isinstance(module, nn.Module) else torch.tensor(x))
        assert module.running_mean is running
        results.append(first.tolist())
    numpy.testing.assert_allclose(*results, rtol=1e-5)


# ---- narrow and diagonal: arguments and errors ---------------------------------------------------------
@pytest.mark.parametrize("offset", [-3, -1, 0, 2, 5])
def test_diagonal_offsets_as_pytorch(backend, offset):
    (x,) = arrays((4, 5))
    check(lambda t: t.diagonal(offset), x)


def test_md_functions_match_the_methods(backend):
    x = md.arange(24).reshape((2, 3, 4))
    assert md.narrow(x, 2, 1, 2).tolist() == x.narrow(2, 1, 2).tolist() == x[:, :, 1:3].tolist()
    assert md.diagonal(x, 0, 1, 2).tolist() == x.diagonal(0, 1, 2).tolist() == [[0, 5, 10], [12, 17, 22]]
    assert md.select(x, 1, 2).tolist() == x.select(1, 2).tolist() == x[:, 2].tolist()


@pytest.mark.parametrize("call", [lambda t: t.narrow(0, 2, 2), lambda t: t.narrow(0, -4, 1),
                                  lambda t: t.diagonal(0, 1, 1), lambda t: t[0].diagonal(),
                                  lambda t: t.select(1, 2), lambda t: t.select(0, -4)],
                         ids=["past the end", "start before the beginning", "one axis twice", "1-d",
                              "select past the end", "select before the beginning"])
def test_bad_narrow_and_diagonal_refuse_as_pytorch(backend, call):
    with pytest.raises(Exception):
        call(torch.zeros(3, 2))
    with pytest.raises((IndexError, ValueError)):
        call(md.zeros((3, 2)))


# ---- random sequences of views and writes ---------------------------------------------------------------
RANDOM_VIEWS = [lambda t: t[1] if t.ndim and t.shape[0] > 1 else None,
                lambda t: t[:, 1:] if t.ndim >= 2 and t.shape[1] > 1 else None,
                lambda t: t.T if t.ndim == 2 else None,
                lambda t: t.transpose(0, -1) if t.ndim >= 2 else None,
                lambda t: t.reshape(-1), lambda t: t.unsqueeze(0), lambda t: t.squeeze(),
                lambda t: t.diagonal() if t.ndim >= 2 else None, lambda t: t[::2] if t.ndim else None,
                lambda t: t.narrow(0, 1, t.shape[0] - 1) if t.ndim and t.shape[0] > 1 else None]
RANDOM_WRITES = [lambda t: t.add_(1.0), lambda t: t.mul_(-2.0), lambda t: t.fill_(3.0),
                 lambda t: t.__setitem__(..., 0.5), lambda t: t.clamp_(-1, 1), lambda t: t.copy_(t * 3.0)]


@pytest.mark.parametrize("unrecorded", [False, True], ids=["grad on", "some writes under no_grad"])
@pytest.mark.parametrize("seed", range(30))
def test_random_sequences_of_views_writes_and_uses_match_pytorch(backend, seed, unrecorded):
    """Values, version counters and the gradient of everything made, after random steps. With writes under
    no_grad, minidl refuses backward() wherever PyTorch does (and more often: any input counts as saved)."""
    rng = numpy.random.default_rng(seed)
    (x,) = arrays((3, 4, 2)[:1 + seed % 3], seed=seed)
    leaves = [md.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)]
    pools = [[leaf * 1.0] for leaf in leaves]
    for _ in range(10):
        i, kind = int(rng.integers(len(pools[0]))), rng.random()
        if kind < 0.45:
            make = RANDOM_VIEWS[int(rng.integers(len(RANDOM_VIEWS)))]
            made = [make(pool[i]) for pool in pools]
            if made[0] is not None:
                for pool, view in zip(pools, made):
                    pool.append(view)
        elif kind < 0.8:
            write, quiet = RANDOM_WRITES[int(rng.integers(len(RANDOM_WRITES)))], unrecorded and rng.random() < 0.3
            for lib, pool in zip((md, torch), pools):
                with lib.no_grad() if quiet else lib.enable_grad():
                    write(pool[i])
        else:  # a use before later writes (contiguous first: PyTorch's results keep a view's layout)
            for pool in pools:
                pool.append(pool[i].contiguous() * 1.5)
    for mine, theirs in zip(*pools):
        numpy.testing.assert_allclose(numpy.asarray(mine.tolist()), numpy.asarray(theirs.tolist()), rtol=1e-5)
        assert mine._version == theirs._version
    losses = []
    for pool in pools:
        total = pool[0].sum() * 0.0
        for k, t in enumerate(pool):
            total = total + (t * float(k + 1)).sum()
        losses.append(total)
    try:
        losses[1].backward()
        torch_computes = True
    except RuntimeError:
        torch_computes = False
    if not losses[0].requires_grad:  # everything was overwritten by constants: PyTorch's gradient is zero
        assert not torch_computes or not leaves[1].grad.abs().sum()
        return
    if not torch_computes or unrecorded:
        try:
            losses[0].backward()
        except RuntimeError as error:
            assert "modified by an inplace operation" in str(error)
            return
        assert torch_computes, "minidl computed a gradient where PyTorch refuses"
    else:
        losses[0].backward()
    numpy.testing.assert_allclose(leaves[0].grad.numpy(), leaves[1].grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op, error", [
    (lambda t: t.narrow(0, 0, 1), RuntimeError),
    (lambda t: t.select(0, 0), IndexError),
    (lambda t: t.diagonal(), IndexError),
])
def test_view_ops_of_a_0d_tensor_raise_pytorchs_exception_type(backend, op, error):
    with pytest.raises(error):
        op(md.tensor(1.0))
    if torch is not None:
        with pytest.raises(error):
            op(torch.tensor(1.0))
