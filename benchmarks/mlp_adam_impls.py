"""The MLP step of ``mlp_impls.py`` with Adam instead of SGD, for ``benchmarks/mlp_step.py --optimizer adam``.

Adam keeps two moment arrays per parameter and a step count, the state
``md.compile`` used to refuse.  The implementations:

- ``handwritten``: NumPy (or CuPy) by hand, Adam in place with its bias
  corrections computed in Python once per step: the floor.
- ``minidl-nn``: ``nn.Sequential`` and ``optim.Adam``, eager.
- ``minidl-compiled``: that step traced once by ``md.compile`` (the learning
  rate, betas and step counts are inputs of the replay; on CuPy a CUDA graph).
- ``minidl-replay``: the same replayed op by op (``cuda_graph=False``; GPU only).
- ``torch``: PyTorch eager, ``torch.optim.Adam`` (its default, for-each).
- ``torch-graph`` (GPU only): the PyTorch step captured once as a CUDA graph
  (``torch.cuda.graph``, ``Adam(capturable=True)``) and replayed.
- ``minidl-nn-bn``, ``minidl-compiled-bn``, ``torch-bn``, ``torch-graph-bn``: the
  same four with ``BatchNorm1d`` after each hidden ``Linear`` (train mode, running
  statistics updated in place every step): the state a compiled step must carry
  besides Adam's. The hand-written floor has no BatchNorm, so compare these with
  each other, not with it.

All start from the same weights and batch, so their first losses agree (the
BatchNorm variants with each other).
"""

from __future__ import annotations

import numpy

from mlp_impls import Step, _nn_model, _nn_step, fixed_batch, initial_weights, torch_model

LEARNING_RATE, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8
IMPLEMENTATIONS = ("handwritten", "minidl-nn", "minidl-compiled", "minidl-replay", "torch", "torch-graph",
                   "minidl-nn-bn", "minidl-compiled-bn", "torch-bn", "torch-graph-bn")
GPU_ONLY = ("minidl-replay", "torch-graph", "torch-graph-bn")


def build(name: str, sizes: tuple[int, ...], batch: int, device: str) -> Step:
    """The Adam step of implementation ``name`` on ``device`` ("cpu" or "cuda")."""
    builders = {"handwritten": _handwritten, "minidl-nn": _minidl_nn, "minidl-compiled": _minidl_compiled,
                "minidl-replay": lambda *a: _minidl_compiled(*a, cuda_graph=False), "torch": _torch,
                "torch-graph": lambda *a: _torch(*a, graph=True),
                "minidl-nn-bn": lambda *a: _minidl_nn(*a, batchnorm=True),
                "minidl-compiled-bn": lambda *a: _minidl_compiled(*a, batchnorm=True),
                "torch-bn": lambda *a: _torch(*a, batchnorm=True),
                "torch-graph-bn": lambda *a: _torch(*a, graph=True, batchnorm=True)}
    if name not in builders:
        raise ValueError(f"unknown Adam implementation {name!r}; known: {', '.join(IMPLEMENTATIONS)}")
    if name in GPU_ONLY and device != "cuda":
        raise ValueError(f"{name} runs on the GPU only")
    return builders[name](sizes, batch, device)


def _handwritten(sizes, batch, device) -> Step:
    if device == "cuda":
        import cupy as xp

        sync = xp.cuda.get_current_stream().synchronize
    else:
        xp, sync = numpy, (lambda: None)
    params = [xp.asarray(array) for layer in initial_weights(sizes) for array in layer]  # w0, b0, w1, b1, ...
    moments = [(xp.zeros_like(p), xp.zeros_like(p)) for p in params]
    x_host, y_host = fixed_batch(sizes, batch)
    x, y = xp.asarray(x_host), xp.asarray(y_host)
    rows = xp.arange(batch)
    beta1, beta2 = BETAS
    count = [0]

    def run():
        layers = len(params) // 2
        inputs, h = [], x
        for index in range(layers):
            inputs.append(h)
            h = h @ params[2 * index].T + params[2 * index + 1]
            if index < layers - 1:
                h = xp.maximum(h, 0)
        shifted = h - h.max(axis=1, keepdims=True)
        exps = xp.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        loss = -(shifted[rows, y] - xp.log(sums[:, 0])).mean()
        grad = exps / sums
        grad[rows, y] -= 1
        grad /= batch
        grads = [None] * len(params)
        for index in range(layers - 1, -1, -1):
            grads[2 * index], grads[2 * index + 1] = grad.T @ inputs[index], grad.sum(axis=0)
            if index > 0:
                grad = grad @ params[2 * index]
                grad *= inputs[index] > 0
        # Adam, with both bias corrections folded into two Python numbers per step.
        count[0] += 1
        root_correction2 = (1.0 - beta2 ** count[0]) ** 0.5
        step_size = LEARNING_RATE * root_correction2 / (1.0 - beta1 ** count[0])
        for p, g, (m, v) in zip(params, grads, moments):
            m *= beta1
            m += (1.0 - beta1) * g
            v *= beta2
            v += (1.0 - beta2) * (g * g)
            p -= step_size * (m / (xp.sqrt(v) + EPS * root_correction2))
        return loss

    return Step(run, sync, float, lambda: params)


def with_batchnorm(sequential, batchnorm_type):
    """The modules of ``sequential`` with ``batchnorm_type(features)`` after each Linear but the last."""
    modules = list(sequential)
    linears = [index for index, module in enumerate(modules) if hasattr(module, "out_features")]
    out = []
    for index, module in enumerate(modules):
        out.append(module)
        if index in linears[:-1]:
            out.append(batchnorm_type(module.out_features))
    return out


def _adam_step(sizes, batch, device, batchnorm=False):
    import minidl.nn as nn
    import minidl.optim as optim

    def optimizer(params):
        return optim.Adam(params, lr=LEARNING_RATE, betas=BETAS, eps=EPS)

    if not batchnorm:
        return _nn_step(sizes, batch, device, optimizer)
    wrap = lambda md, sizes: nn.Sequential(*with_batchnorm(_nn_model(md, sizes), nn.BatchNorm1d))
    return _nn_step(sizes, batch, device, optimizer, make_model=wrap)


def _minidl_nn(sizes, batch, device, batchnorm=False) -> Step:
    md, train_step, x, y, sync, model = _adam_step(sizes, batch, device, batchnorm)
    return Step(lambda: train_step(x, y), sync, lambda loss: loss.item(), lambda: [p.data for p in model.parameters()])


def _minidl_compiled(sizes, batch, device, cuda_graph=None, batchnorm=False) -> Step:
    md, train_step, x, y, sync, model = _adam_step(sizes, batch, device, batchnorm)
    compiled = md.compile(train_step, cuda_graph=cuda_graph)
    return Step(lambda: compiled(x, y), sync, lambda loss: loss.item(), lambda: [p.data for p in model.parameters()],
                lambda: {"cuda_graph": compiled.uses_cuda_graph, "graph_note": compiled.graph_note,
                         "traces": compiled.traces})


def _torch(sizes, batch, device, graph=False, batchnorm=False) -> Step:
    import torch

    target = torch.device(device)
    model = torch_model(sizes, target)
    if batchnorm:
        model = torch.nn.Sequential(*with_batchnorm(model, torch.nn.BatchNorm1d)).to(target)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=BETAS, eps=EPS, capturable=graph)
    x_host, y_host = fixed_batch(sizes, batch)
    x, y = torch.from_numpy(x_host).to(target), torch.from_numpy(y_host).to(target)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step():
        optimizer.zero_grad(set_to_none=False)  # a captured graph keeps its gradient arrays
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    if not graph:
        return Step(step, sync, lambda loss: loss.item(), lambda: [p.detach() for p in model.parameters()])
    # The recipe of PyTorch's CUDA-graph notes: warm up on a side stream, capture one step, replay it.
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    captured = torch.cuda.CUDAGraph()
    with torch.cuda.graph(captured):
        static_loss = step()

    def replay():
        captured.replay()
        return static_loss

    return Step(replay, sync, lambda loss: loss.item(), lambda: [p.detach() for p in model.parameters()],
                lambda: {"cuda_graph": True, "graph_note": None})
