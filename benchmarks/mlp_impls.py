"""The one SGD step of a ReLU MLP, written six ways, for ``benchmarks/mlp_step.py``.

Every implementation starts from the same weights (drawn here with NumPy, as
PyTorch's default uniform(-1/sqrt(in), 1/sqrt(in))) and trains on the same
fixed batch, so their first losses agree: a check that they compute one
thing before we time them.

- ``handwritten``: NumPy (or CuPy, with the same code) by hand: the floor.
- ``minidl``: minidl's functional API (``F.linear``, ``F.relu``,
  ``F.cross_entropy``), ``loss.backward()``, and the same in-place update as
  the hand-written step.
- ``minidl-nn``: ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU`` and ``optim.SGD``.
- ``minidl-compiled``: the ``minidl-nn`` step traced once by ``md.compile`` (on CuPy: a CUDA graph).
- ``minidl-replay``: the same, replayed op by op (``cuda_graph=False``).
- ``minidl-profiled``: the ``minidl`` step, each one inside ``md.profile()``
  (its ratio to ``minidl`` is the profiler's overhead).
- ``torch``: PyTorch eager, ``torch.nn`` and ``torch.optim.SGD``.

Precision variants, run only when named (``--implementations``): on the CPU
they are either no different (TF32) or slow (NumPy has no float16 BLAS):

- ``minidl-tf32`` / ``torch-tf32``: the ``nn`` step with float32 GEMMs on TF32
  tensor cores (``md.set_matmul_precision("high")``; PyTorch's
  ``torch.set_float32_matmul_precision("high")``);
- ``minidl-amp`` / ``torch-amp``: the ``nn`` step under autocast (GEMMs in
  float16) with a GradScaler, as a mixed-precision training loop is written.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy

LEARNING_RATE = 0.01
IMPLEMENTATIONS = ("handwritten", "minidl", "minidl-nn", "minidl-compiled", "minidl-replay", "minidl-profiled", "torch")
PRECISION_IMPLEMENTATIONS = ("minidl-tf32", "minidl-amp", "torch-tf32", "torch-amp")  # run only when named


def initial_weights(sizes: tuple[int, ...], seed: int = 0) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
    """(weight (out, in), bias (out,)) per layer, float32, uniform in +-1/sqrt(in) like PyTorch."""
    rng = numpy.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / numpy.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(numpy.float32)
        bias = rng.uniform(-bound, bound, (fan_out,)).astype(numpy.float32)
        layers.append((weight, bias))
    return layers


def fixed_batch(sizes: tuple[int, ...], batch: int, seed: int = 1) -> tuple[numpy.ndarray, numpy.ndarray]:
    """One batch of inputs (float32) and integer labels, reused at every step."""
    rng = numpy.random.default_rng(seed)
    return rng.standard_normal((batch, sizes[0])).astype(numpy.float32), rng.integers(0, sizes[-1], batch)


class Step:
    """One implementation, ready to run: ``run()`` does one step, ``sync()`` waits for the device."""

    def __init__(self, run: Callable[[], Any], sync: Callable[[], None], loss_of: Callable[[Any], float],
                 arrays: Callable[[], list[Any]] | None = None, details: Callable[[], dict] | None = None) -> None:
        self.run, self.sync, self.loss_of = run, sync, loss_of
        self.arrays = arrays  # the parameter arrays, for the memory check
        self.details = details  # what to report about the implementation once it has warmed up


def build(name: str, sizes: tuple[int, ...], batch: int, device: str) -> Step:
    """The step of implementation ``name`` on ``device`` ("cpu" or "cuda")."""
    builders = {"handwritten": _handwritten, "minidl": _minidl_functional, "minidl-nn": _minidl_nn,
                "minidl-compiled": _minidl_compiled, "minidl-replay": lambda *a: _minidl_compiled(*a, cuda_graph=False),
                "minidl-profiled": _minidl_profiled, "torch": _torch, "minidl-tf32": _minidl_tf32,
                "minidl-amp": _minidl_amp, "torch-tf32": _torch_tf32, "torch-amp": lambda *a: _torch(*a, amp=True)}
    if name not in builders:
        import mlp_impls_backends  # other array libraries: handwritten-torch, minidl-torch, minidl-nn@<backend>

        step = mlp_impls_backends.build(name, sizes, batch, device)
        if step is not None:
            return step
        raise ValueError(f"unknown implementation {name!r}; known: "
                         f"{', '.join(IMPLEMENTATIONS + PRECISION_IMPLEMENTATIONS)}")
    return builders[name](sizes, batch, device)


# ---- hand-written NumPy / CuPy ---------------------------------------------------------------------
def _handwritten(sizes, batch, device) -> Step:
    if device == "cuda":
        import cupy as xp

        sync = xp.cuda.get_current_stream().synchronize
    else:
        xp, sync = numpy, (lambda: None)
    layers = [(xp.asarray(w), xp.asarray(b)) for w, b in initial_weights(sizes)]
    x_host, y_host = fixed_batch(sizes, batch)
    x, y = xp.asarray(x_host), xp.asarray(y_host)
    rows = xp.arange(batch)

    def run():
        # Forward, keeping each layer's input for the backward pass.
        inputs, h = [], x
        for index, (weight, bias) in enumerate(layers):
            inputs.append(h)
            h = h @ weight.T + bias
            if index < len(layers) - 1:
                h = xp.maximum(h, 0)
        shifted = h - h.max(axis=1, keepdims=True)
        exps = xp.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        loss = -(shifted[rows, y] - xp.log(sums[:, 0])).mean()
        # Backward: d loss / d logits = (softmax - one_hot) / N, then three GEMMs per layer.
        grad = exps / sums
        grad[rows, y] -= 1
        grad /= batch
        for index in range(len(layers) - 1, -1, -1):
            weight, bias = layers[index]
            grad_weight, grad_bias = grad.T @ inputs[index], grad.sum(axis=0)
            if index > 0:
                grad = grad @ weight
                grad *= inputs[index] > 0  # ReLU's gradient: its output was positive
            weight -= LEARNING_RATE * grad_weight
            bias -= LEARNING_RATE * grad_bias
        return loss

    return Step(run, sync, float, lambda: [a for layer in layers for a in layer])


# ---- minidl -------------------------------------------------------------------------------------------
def _minidl_setup(sizes, batch, device, backend=None):
    import minidl as md

    if backend is None:  # (another library, torch or jax, takes the device as a setting of its own)
        backend = "cupy" if device == "cuda" else "numpy"
    md.set_backend(backend, device=None if backend == "cupy" or device == "cpu" else device)
    x_host, y_host = fixed_batch(sizes, batch)
    sync = (lambda: md.backend.synchronize(backend))
    return md, md.tensor(x_host), md.tensor(y_host), sync


def _minidl_functional(sizes, batch, device, backend=None) -> Step:
    md, x, y, sync = _minidl_setup(sizes, batch, device, backend)
    import minidl.nn.functional as F

    layers = [(md.tensor(w, requires_grad=True), md.tensor(b, requires_grad=True)) for w, b in initial_weights(sizes)]
    params = [p for layer in layers for p in layer]

    def run():
        h = x
        for index, (weight, bias) in enumerate(layers):
            h = F.linear(h, weight, bias)
            if index < len(layers) - 1:
                h = F.relu(h)
        loss = F.cross_entropy(h, y)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:  # the same in-place update as the hand-written step
            p.data -= LEARNING_RATE * p.grad.data
        return loss

    return Step(run, sync, lambda loss: loss.item(), lambda: [p.data for p in params])


def _minidl_profiled(sizes, batch, device) -> Step:
    import minidl as md

    step = _minidl_functional(sizes, batch, device)
    eager = step.run

    def run():
        with md.profile():
            return eager()

    step.run = run
    return step


def _nn_model(md, sizes):
    import minidl.nn as nn

    modules = []
    for index, (weight, bias) in enumerate(initial_weights(sizes)):
        layer = nn.Linear(weight.shape[1], weight.shape[0])
        layer.weight.data, layer.bias.data = md.tensor(weight).data, md.tensor(bias).data
        modules += [layer, nn.ReLU()] if index < len(sizes) - 2 else [layer]
    return nn.Sequential(*modules)


def _nn_step(sizes, batch, device, make_optimizer=None, backend=None, make_model=None):
    """The ``nn`` model's training step; ``make_optimizer(params)`` (default: SGD at LEARNING_RATE),
    ``make_model(md, sizes)`` (default: the MLP of ``_nn_model``)."""
    md, x, y, sync = _minidl_setup(sizes, batch, device, backend)
    import minidl.nn.functional as F
    import minidl.optim as optim

    model = (make_model or _nn_model)(md, sizes)
    make_optimizer = make_optimizer or (lambda params: optim.SGD(params, lr=LEARNING_RATE))
    optimizer = make_optimizer(model.parameters())

    def train_step(inputs, labels):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    return md, train_step, x, y, sync, model


def _minidl_nn(sizes, batch, device, backend=None) -> Step:
    md, train_step, x, y, sync, model = _nn_step(sizes, batch, device, backend=backend)
    return Step(lambda: train_step(x, y), sync, lambda loss: loss.item(),
                lambda: [p.data for p in model.parameters()])


def _minidl_tf32(sizes, batch, device) -> Step:
    import minidl as md

    md.set_matmul_precision("high")  # this worker process only
    return _minidl_nn(sizes, batch, device)


def _minidl_amp(sizes, batch, device) -> Step:
    md, x, y, sync = _minidl_setup(sizes, batch, device)
    import minidl.nn.functional as F
    import minidl.optim as optim

    model = _nn_model(md, sizes)
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    scaler = md.amp.GradScaler()

    def run():
        optimizer.zero_grad()
        with md.autocast(device, dtype=md.float16):
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss

    return Step(run, sync, lambda loss: loss.item(), lambda: [p.data for p in model.parameters()],
                lambda: {"scale": scaler.get_scale()})


def _minidl_compiled(sizes, batch, device, cuda_graph=None, backend=None) -> Step:
    md, train_step, x, y, sync, model = _nn_step(sizes, batch, device, backend=backend)
    compiled = md.compile(train_step, cuda_graph=cuda_graph)
    return Step(lambda: compiled(x, y), sync, lambda loss: loss.item(),
                lambda: [p.data for p in model.parameters()],
                lambda: {"cuda_graph": compiled.uses_cuda_graph, "graph_note": compiled.graph_note})


# ---- PyTorch --------------------------------------------------------------------------------------------
def _torch_tf32(sizes, batch, device) -> Step:
    import torch

    torch.set_float32_matmul_precision("high")  # TF32 for float32 GEMMs (this worker process only)
    return _torch(sizes, batch, device)


def torch_model(sizes, target):
    """The MLP as ``torch.nn.Sequential`` with the shared initial weights, on ``target``."""
    import torch

    modules = []
    for index, (weight, bias) in enumerate(initial_weights(sizes)):
        layer = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(weight))
            layer.bias.copy_(torch.from_numpy(bias))
        modules += [layer, torch.nn.ReLU()] if index < len(sizes) - 2 else [layer]
    model = torch.nn.Sequential(*modules).to(target)
    return model


def _torch(sizes, batch, device, amp=False) -> Step:
    import torch

    target = torch.device(device)
    model = torch_model(sizes, target)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    x_host, y_host = fixed_batch(sizes, batch)
    x, y = torch.from_numpy(x_host).to(target), torch.from_numpy(y_host).to(target)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    scaler = torch.amp.GradScaler(device, enabled=amp)

    def run():
        optimizer.zero_grad()
        with torch.autocast(device, dtype=torch.float16, enabled=amp):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss

    return Step(run, sync, lambda loss: loss.item(), lambda: [p.detach() for p in model.parameters()])
