"""The MLP step of ``mlp_impls.py`` on other array libraries, for ``mlp_step.py --torch`` and ``backends_step.py``.

- ``handwritten-torch``: the step by hand with torch operations (forward, the
  three GEMMs per layer of the backward, in-place SGD), no autograd: the floor
  on PyTorch's kernels;
- ``minidl-torch``: minidl's functional step (``mlp_impls``'s ``minidl``) on
  torch tensors (``md.set_backend("torch")``);
- ``minidl-nn@<backend>``: minidl's ``nn.Sequential`` + ``optim.SGD`` step on
  any backend (``minidl-nn@jax``, ``minidl-nn@dask``, ...): the same script,
  only the backend named differs.

PyTorch eager (``torch``) is ``mlp_impls``'s own.
"""

from __future__ import annotations

from mlp_impls import LEARNING_RATE, Step, fixed_batch, initial_weights

TORCH_IMPLEMENTATIONS = ("handwritten-torch", "minidl-torch", "torch")


def build(name: str, sizes: tuple[int, ...], batch: int, device: str) -> Step | None:
    """The step of ``name`` if this file defines it, else None."""
    if name == "handwritten-torch":
        return _handwritten_torch(sizes, batch, device)
    if name == "minidl-torch":
        return _minidl_functional_on("torch", sizes, batch, device)
    if name.startswith("minidl-nn@"):
        return _minidl_nn_on(name.partition("@")[2], sizes, batch, device)
    return None


def _handwritten_torch(sizes, batch, device) -> Step:
    import torch

    target = torch.device(device)
    layers = [(torch.from_numpy(w).to(target), torch.from_numpy(b).to(target)) for w, b in initial_weights(sizes)]
    x_host, y_host = fixed_batch(sizes, batch)
    x, y = torch.from_numpy(x_host).to(target), torch.from_numpy(y_host).to(target)
    rows = torch.arange(batch, device=target)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def run():
        inputs, h = [], x
        for index, (weight, bias) in enumerate(layers):
            inputs.append(h)
            h = torch.addmm(bias, h, weight.T)
            if index < len(layers) - 1:
                h = torch.relu(h)
        shifted = h - h.amax(dim=1, keepdim=True)
        exps = torch.exp(shifted)
        sums = exps.sum(dim=1, keepdim=True)
        loss = -(shifted[rows, y] - torch.log(sums[:, 0])).mean()
        grad = exps / sums
        grad[rows, y] -= 1
        grad /= batch
        for index in range(len(layers) - 1, -1, -1):
            weight, bias = layers[index]
            grad_weight, grad_bias = grad.T @ inputs[index], grad.sum(dim=0)
            if index > 0:
                grad = grad @ weight
                grad *= inputs[index] > 0
            weight -= LEARNING_RATE * grad_weight
            bias -= LEARNING_RATE * grad_bias
        return loss

    return Step(run, sync, lambda loss: loss.item(), lambda: [a for layer in layers for a in layer])


def _setup(backend, sizes, batch, device):
    import minidl as md

    md.set_backend(backend, device=device if backend == "torch" else None)
    x_host, y_host = fixed_batch(sizes, batch)
    return md, md.tensor(x_host), md.tensor(y_host), (lambda: md.backend.synchronize(backend))


def _minidl_functional_on(backend, sizes, batch, device) -> Step:
    md, x, y, sync = _setup(backend, sizes, batch, device)
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
        for p in params:
            p.data -= LEARNING_RATE * p.grad.data
        return loss

    return Step(run, sync, lambda loss: loss.item(), lambda: [p.data for p in params])


def _minidl_nn_on(backend, sizes, batch, device) -> Step:
    md, x, y, sync = _setup(backend, sizes, batch, device)
    import minidl.nn as nn
    import minidl.nn.functional as F
    import minidl.optim as optim

    modules = []
    for index, (weight, bias) in enumerate(initial_weights(sizes)):
        layer = nn.Linear(weight.shape[1], weight.shape[0])
        layer.weight.data, layer.bias.data = md.tensor(weight).data, md.tensor(bias).data
        modules += [layer, nn.ReLU()] if index < len(sizes) - 2 else [layer]
    model = nn.Sequential(*modules)
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def run():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def sync_all():  # a lazy or asynchronous library has finished the step when its parameters are ready
        for p in model.parameters():
            block = getattr(p.data, "block_until_ready", None)
            if block is not None:
                block()
        sync()

    return Step(run, sync_all, lambda loss: loss.item(), lambda: [p.data for p in model.parameters()])
