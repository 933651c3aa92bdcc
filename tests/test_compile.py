"""md.compile: a traced-and-replayed step gives the eager numbers, or a clear error."""

from __future__ import annotations

import contextlib

import numpy
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim

# md.compile refuses lazy libraries (Dask) with a CompileError; tests/test_backend_registry.py checks that.
pytestmark = pytest.mark.needs("eager")


def model_and_step(momentum=0.0, zero_grad=True, lr=0.1):
    """A 6-5-4-3 ReLU MLP, an SGD optimizer and one training step for it."""
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    def step(x, y):
        if zero_grad:
            optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return model, optimizer, step


def batch(size=7, classes=3, seed=1):
    md.manual_seed(seed)
    return md.randn(size, 6), md.tensor([i % classes for i in range(size)])


def test_compiled_steps_give_the_eager_numbers(backend):
    x, y = batch()
    eager_model, _, eager_step = model_and_step()
    compiled_model, _, step = model_and_step()
    compiled = md.compile(step)
    for _ in range(5):  # eager, traced, then replayed three times
        expected, got = eager_step(x, y).item(), compiled(x, y).item()
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-7)
    for (name, p), q in zip(eager_model.named_parameters(), compiled_model.parameters()):
        numpy.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-6, atol=1e-7, err_msg=name)
        numpy.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6, atol=1e-7, err_msg=name)


def test_replays_follow_new_batches(backend):
    _, _, eager_step = model_and_step()
    _, _, step = model_and_step()
    compiled = md.compile(step)
    for seed in range(4):
        x, y = batch(seed=seed)
        assert compiled(x, y).item() == pytest.approx(eager_step(x, y).item(), rel=1e-6, abs=1e-7)


def test_a_replay_returns_detached_tensors_of_the_same_structure(backend):
    _, _, step = model_and_step()
    compiled = md.compile(lambda x, y: {"loss": step(x, y), "nothing": None})
    x, y = batch()
    for _ in range(3):
        out = compiled(x, y)
    assert set(out) == {"loss", "nothing"} and out["nothing"] is None
    assert out["loss"].shape == () and not out["loss"].requires_grad and out["loss"].backend == backend


def test_a_step_that_ends_with_zero_grad_compiles(backend):
    x, y = batch()
    models, steps = [], []
    for _ in range(2):
        md.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, model=model, optimizer=optimizer):
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()  # last: the gradients it replaces must not outlive the traced call
            return loss

        models.append(model)
        steps.append(step)
    compiled = md.compile(steps[1])
    for _ in range(4):
        assert compiled(x, y).item() == pytest.approx(steps[0](x, y).item(), rel=1e-6, abs=1e-7)
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        numpy.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-6, atol=1e-7)


def test_the_program_is_straight_line_python(backend):
    _, _, step = model_and_step()
    compiled = md.compile(step)
    assert compiled.source is None
    x, y = batch()
    compiled(x, y), compiled(x, y)
    source = compiled.source
    assert source.startswith("def replay(") and "matmul(" in source and "return (" in source
    assert "Tensor" not in source  # no autograd left: only array operations
    assert compiled.program.instruction_count > 10


def test_another_input_shape_is_an_error_naming_both_shapes(backend):
    _, _, step = model_and_step()
    compiled = md.compile(step)
    x, y = batch(size=7)
    compiled(x, y), compiled(x, y)
    with pytest.raises(md.CompileError, match=r"argument 0 .*shape \(7, 6\).*shape \(5, 6\)"):
        compiled(*batch(size=5))


def test_another_dtype_is_an_error(backend):
    _, _, step = model_and_step()
    compiled = md.compile(lambda x: (x * 2.0).sum())
    x = md.ones((3,))
    compiled(x), compiled(x)
    with pytest.raises(md.CompileError, match="float32 tensor.*float64 tensor"):
        compiled(md.ones((3,), dtype=md.float64))


def test_a_changed_python_argument_is_an_error(backend):
    compiled = md.compile(lambda x, scale: (x * scale).sum())
    x = md.ones((3,))
    compiled(x, 2.0), compiled(x, 2.0)
    assert compiled(x, 2.0).item() == 6.0
    with pytest.raises(md.CompileError, match="the value 2.0 .* the value 3.0"):
        compiled(x, 3.0)


def test_a_value_read_that_changes_at_replay_is_an_error(backend):
    # cross_entropy checks the labels by reading a count into Python: a guard of the trace.
    _, _, step = model_and_step()
    compiled = md.compile(step)
    x, y = batch()
    compiled(x, y), compiled(x, y)
    bad = md.tensor([0, 1, 2, 3, 0, 1, 2])  # label 3 of 3 classes
    with pytest.raises(md.CompileError, match="read a value into Python.*was 7 then and is 6 now"):
        compiled(x, bad)


def test_branching_on_a_tensor_value_is_refused_at_the_trace(backend):
    def step(x):
        return x * 2.0 if (x.sum() > 0) else x * 3.0

    compiled = md.compile(step)
    compiled(md.ones((2,)))
    with pytest.raises(md.CompileError, match="value on the host"):
        compiled(md.ones((2,)))


def test_state_kept_between_steps_outside_optimizers_and_buffers_is_refused(backend):
    _, _, step = model_and_step()
    history = []

    def step_keeping_losses(x, y):
        history.append(step(x, y))
        return history[-1]

    compiled = md.compile(step_keeping_losses)
    x, y = batch()
    compiled(x, y)
    with pytest.raises(md.CompileError, match="still held after it returned"):
        compiled(x, y)


def test_gradients_summed_over_calls_are_refused(backend):
    _, _, step = model_and_step(zero_grad=False)
    compiled = md.compile(step)
    x, y = batch()
    compiled(x, y)
    with pytest.raises(md.CompileError, match="adds to a gradient left by an earlier call.*zero_grad"):
        compiled(x, y)


def test_random_numbers_other_than_dropout_masks_are_refused(backend):
    compiled = md.compile(lambda x: (x * md.randn(4)).sum())
    x = md.ones((4,))
    compiled(x)
    with pytest.raises(md.CompileError, match="random numbers"):
        compiled(x)


def test_returning_a_python_number_is_refused(backend):
    compiled = md.compile(lambda x: 3.0)
    compiled(md.ones((2,)))
    with pytest.raises(md.CompileError, match="must return Tensors"):
        compiled(md.ones((2,)))


def test_reset_traces_again_with_a_new_learning_rate(backend):
    _, optimizer, step = model_and_step(lr=0.1)
    _, eager_optimizer, eager_step = model_and_step(lr=0.1)
    compiled = md.compile(step)
    x, y = batch()
    for _ in range(3):
        compiled(x, y), eager_step(x, y)
    for group in optimizer.param_groups + eager_optimizer.param_groups:
        group["lr"] = 0.5
    compiled.reset()
    for _ in range(3):
        assert compiled(x, y).item() == pytest.approx(eager_step(x, y).item(), rel=1e-6, abs=1e-7)


def test_keyword_arguments_are_refused(backend):
    with pytest.raises(TypeError, match="positional"):
        md.compile(lambda x: x)(x=md.ones((1,)))


def test_an_argument_that_requires_grad_is_refused(backend):
    compiled = md.compile(lambda x: (x * x).sum())
    with pytest.raises(md.CompileError, match="do not require grad.*detach"):
        compiled(md.ones((2,), requires_grad=True))


# ---- CUDA graphs (CuPy) and the guard check they run first ---------------------------------------------
def test_the_guard_check_and_the_unguarded_program_split_the_replay(backend):
    _, _, step = model_and_step()
    compiled = md.compile(step)
    x, y = batch()
    for _ in range(3):
        compiled(x, y)
    check, unguarded = compiled.program.split_guards()
    params = [t.data for t in compiled._leaves]
    settings = compiled.sources((x, y))[2 + len(params):]  # lr, momentum, ...: inputs of the program too
    copies = lambda: [md.tensor(p, backend=backend).data for p in params] + settings  # noqa: E731 - fresh copies
    check(x.data, y.data, *copies())  # the labels are as at the trace: passes
    bad = md.tensor([5] + [0] * 6).data
    with pytest.raises(md.CompileError, match="read a value into Python"):
        check(x.data, bad, *copies())
    unguarded_values = unguarded(x.data, y.data, *copies())
    replayed_values = compiled.program.run(x.data, y.data, *copies())
    for a, b in zip(unguarded_values, replayed_values):
        numpy.testing.assert_array_equal(md.tensor(a).numpy(), md.tensor(b).numpy())


def test_a_guard_on_a_value_changed_in_place_cannot_be_checked_first(backend):
    w = md.tensor([1.0, 2.0], requires_grad=True)

    def step(x):
        product = (w * x).sum()  # w enters the trace here
        with md.no_grad():
            w.data -= 0.1 * x.data
        count = int(w.xp.sum(w.xp.astype(w.data > 0.0, w.data.dtype)))  # read from an array changed in place
        return product * float(count)

    compiled = md.compile(step)
    x = md.tensor([1.0, 1.0])
    for _ in range(3):
        compiled(x)
    with pytest.raises(md.CompileError, match="changed in place"):
        compiled.program.split_guards()


# an array filled in place: only where arrays can be written (on JAX the fill is a new array, so the guard can be checked first)
@pytest.mark.needs("writeable")
def test_a_guard_on_an_array_filled_in_place_cannot_be_checked_first(backend):
    # The gradient of w[1:] is zeros with the slice filled in (a setitem): a guard reading it must not
    # be checked on the unfilled array.
    w = md.tensor([1.0, 2.0, 3.0], requires_grad=True)

    def step(x):
        w.grad = None
        loss = (w[1:] * x).sum()
        loss.backward()
        positive = bool(w.grad.data[1] > 0)  # read into Python: a guard
        return loss * (1.0 if positive else 2.0)

    compiled = md.compile(step)
    x = md.tensor([1.0, 1.0])
    assert [compiled(x).item() for _ in range(4)] == [5.0] * 4  # the plain replay is right
    with pytest.raises(md.CompileError, match="changed in place"):
        compiled.program.split_guards()


def test_cuda_graph_needs_cupy(backend):
    if backend == "cupy":
        pytest.skip("on CuPy the graph is captured")
    _, _, step = model_and_step()
    compiled = md.compile(step)
    x, y = batch()
    for _ in range(3):
        compiled(x, y)
    assert not compiled.uses_cuda_graph and "CuPy" in compiled.graph_note
    strict = md.compile(model_and_step()[2], cuda_graph=True)
    strict(x, y), strict(x, y)
    with pytest.raises(md.CompileError, match="cuda_graph=True.*CuPy"):
        strict(x, y)


@pytest.mark.gpu
def test_a_cuda_graph_replay_gives_the_eager_numbers_and_fresh_losses():
    if not md.is_gpu_available():
        pytest.skip("needs a CUDA GPU")
    with md.using_backend("cupy"):
        eager_model, _, eager_step = model_and_step()
        compiled_model, _, step = model_and_step()
        compiled = md.compile(step, cuda_graph=True)
        losses, expected = [], []
        for seed in range(6):  # eager, traced, captured and launched, then launched
            x, y = batch(seed=seed)
            expected.append(eager_step(x, y).item())
            losses.append(compiled(x, y))
        assert compiled.uses_cuda_graph and compiled.graph_note is None
        # Each returned loss is its own array: later launches did not overwrite the earlier ones.
        assert [loss.item() for loss in losses] == pytest.approx(expected, rel=1e-5, abs=1e-6)
        for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
            numpy.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-5, atol=1e-6)
            numpy.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6)
        # Bad labels fail in the check before the launch: the parameters are untouched.
        before = [q.numpy().copy() for q in compiled_model.parameters()]
        x, _ = batch()
        with pytest.raises(md.CompileError):
            compiled(x, md.tensor([7, 0, 1, 2, 0, 1, 2]))
        for b, q in zip(before, compiled_model.parameters()):
            numpy.testing.assert_array_equal(q.numpy(), b)
        # A parameter given a new array (a load): the graph reads its values from then on.
        first = next(compiled_model.parameters())
        first.data = md.zeros(first.shape, backend="cupy").data
        compiled(x, batch()[1])
        assert first.grad is not None and numpy.isfinite(first.numpy()).all()


class _StandInGemm:
    """Stands in for the graph's own cuBLAS call: records each product's shapes."""

    def __call__(self, a, b):
        _StandInGraph.products.append((a.shape, b.shape))
        return a @ b

    def bound_to(self, stream):
        return contextlib.nullcontext()


class _StandInGraph:
    """Behaves as a captured graph on the CPU: fixed output arrays, overwritten at each launch."""

    products: list = []  # shapes of the products it computed (the program's matmuls must come here)

    def __init__(self, function, sources, bind=None):
        self.function, self.sources, self.outputs = function, sources, None

    def launch(self):
        values = self.function(*self.sources)
        if self.outputs is None:  # (NumPy gives 0-d results as scalars; a graph's are arrays)
            self.outputs = [numpy.asarray(v) if isinstance(v, numpy.generic) else v for v in values]
        else:
            for static, value in zip(self.outputs, values):
                static[...] = value
        return self.outputs


# a CUDA graph's buffers are written in place (CuPy); the stand-in does the same
@pytest.mark.needs("writeable")
def test_the_graph_replay_logic_with_a_stand_in_graph(backend, monkeypatch):
    # What CuPy's capture adds (static inputs, the check before the launch, copied results) runs here on
    # the CPU with a stand-in for the graph; the real capture is tested on a GPU (below).
    import importlib

    compiled_step = importlib.import_module("minidl.compile.graph_replay")  # md.compile (a function) hides the package
    monkeypatch.setattr(compiled_step, "supports_graphs", lambda name: True)
    monkeypatch.setattr(compiled_step, "CapturedGraph", _StandInGraph)
    monkeypatch.setattr(compiled_step, "GraphGemm", _StandInGemm)
    monkeypatch.setattr(_StandInGraph, "products", [])
    eager_model, _, eager_step = model_and_step()
    compiled_model, _, step = model_and_step()
    compiled = md.compile(step, cuda_graph=True)
    batches = [batch(seed=seed) for seed in range(5)]
    kept_x = [x.numpy().copy() for x, _ in batches]
    losses = [compiled(x, y) for x, y in batches]
    expected = [eager_step(x, y).item() for x, y in batches]
    # 3 launches (calls 3 to 5) of 8 products each: 3 forward, 5 backward (no gradient for the input)
    assert compiled.uses_cuda_graph and len(_StandInGraph.products) == 3 * 8
    assert [loss.item() for loss in losses] == pytest.approx(expected, rel=1e-6, abs=1e-7)
    for (x, _), kept in zip(batches, kept_x):  # the caller's batches were copied from, never written to
        numpy.testing.assert_array_equal(x.numpy(), kept)
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        numpy.testing.assert_allclose(q.numpy(), p.numpy(), rtol=1e-6, atol=1e-7)
    before = [q.numpy().copy() for q in compiled_model.parameters()]
    with pytest.raises(md.CompileError, match="read a value into Python"):
        compiled(batches[0][0], md.tensor([3, 0, 1, 2, 0, 1, 2]))
    for b, q in zip(before, compiled_model.parameters()):  # checked before the launch: nothing changed
        numpy.testing.assert_array_equal(q.numpy(), b)
    # A parameter given a new array: its values are copied in, the new array itself is left alone.
    first = next(compiled_model.parameters())
    given = md.zeros(first.shape)
    first.data = given.data
    compiled(*batches[0])
    assert not (given.numpy() != 0).any() and (first.numpy() != 0).any()


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_captured_cublas_gemm_handles_every_layout(dtype):
    if not md.is_gpu_available():
        pytest.skip("needs a CUDA GPU")
    import cupy

    from minidl.backend.graphs import CapturedGraph
    from minidl.kernels.matmul import GraphGemm

    rng = cupy.random.default_rng(0)
    a = rng.standard_normal((7, 5)).astype(dtype)
    b = rng.standard_normal((5, 3)).astype(dtype)
    wide = rng.standard_normal((3, 12)).astype(dtype)
    cases = (lambda: (a, b), lambda: (b.T, a.T), lambda: (a, wide.T[::2][:5].T.T[:5]),
             lambda: (a[:, ::-1], b), lambda: (a[:1], b), lambda: (a.T.T, b[:, :1]))
    inputs = [array for case in cases for array in case()]
    graph_gemm = GraphGemm()
    graph = CapturedGraph(lambda *xs: [graph_gemm(xs[i], xs[i + 1]) for i in range(0, len(xs), 2)],
                          inputs, bind=graph_gemm.bound_to)
    got = graph.launch()
    cupy.cuda.get_current_stream().synchronize()
    for index, out in enumerate(got):
        expected = cupy.matmul(inputs[2 * index], inputs[2 * index + 1])
        cupy.testing.assert_allclose(out, expected, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6)


# a CUDA graph's buffers are written in place (CuPy); the stand-in does the same
@pytest.mark.needs("writeable")
def test_tied_weights_stay_tied_through_a_stand_in_graph(backend, monkeypatch):
    import importlib

    compiled_step = importlib.import_module("minidl.compile.graph_replay")
    monkeypatch.setattr(compiled_step, "supports_graphs", lambda name: True)
    monkeypatch.setattr(compiled_step, "CapturedGraph", _StandInGraph)
    monkeypatch.setattr(compiled_step, "GraphGemm", _StandInGemm)
    shared = md.randn(3, 3)
    w1, w2 = (md.Tensor._wrap(shared.data, shared.xp, shared.backend, True) for _ in range(2))

    def step(x):
        w1.grad = w2.grad = None
        loss = ((x @ w1) @ w2).sum()
        loss.backward()
        with md.no_grad():
            w1.data -= 0.01 * w1.grad.data
        return loss

    compiled = md.compile(step, cuda_graph=True)
    x = md.randn(2, 3)
    for _ in range(4):
        compiled(x)
    assert compiled.uses_cuda_graph and w1.data is w2.data  # one array, as in the eager step


@pytest.mark.gpu
def test_a_layer_on_sequences_is_captured_too():
    if not md.is_gpu_available():
        pytest.skip("needs a CUDA GPU")
    with md.using_backend("cupy"):
        results = []
        for graph in (False, True):
            md.manual_seed(0)
            layer = nn.Linear(4, 3)
            optimizer = optim.SGD(layer.parameters(), lr=0.1)

            def step(x, layer=layer, optimizer=optimizer):
                optimizer.zero_grad()
                loss = (layer(x) ** 2).mean()   # x is (batch, sequence, features): a 3-D matmul
                loss.backward()
                optimizer.step()
                return loss

            compiled = md.compile(step, cuda_graph=graph)
            md.manual_seed(1)
            x = md.randn(2, 5, 4)
            results.append([compiled(x).item() for _ in range(5)])
            assert compiled.uses_cuda_graph == graph, compiled.graph_note
        assert results[1] == pytest.approx(results[0], rel=1e-5, abs=1e-6)


def test_a_slice_gradient_replays_on_every_backend(backend):
    # The gradient of w[1:] is zeros with the slice written in: in place on NumPy, a new array on JAX
    # (the trace records the copy and goes on from it).
    def run(compiled):
        w = md.tensor([1.0, 2.0, 3.0], requires_grad=True)

        def step(x):
            w.grad = None
            loss = (w[1:] * x).sum() + (w[::-1] * w).sum()
            loss.backward()
            with md.no_grad():
                w.data = w.data - 0.1 * w.grad.data
            return loss

        step = md.compile(step) if compiled else step
        x = md.tensor([1.0, -1.0])
        return [step(x).item() for _ in range(4)], w.tolist()

    assert run(compiled=True) == run(compiled=False)
