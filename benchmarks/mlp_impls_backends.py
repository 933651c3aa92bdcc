"""The MLP step of ``mlp_impls.py`` on other array libraries, for ``mlp_step.py --torch`` and ``backends_step.py``.

- ``handwritten-torch``: the step by hand with torch operations (forward, the
  three GEMMs per layer of the backward, in-place SGD), no autograd: the floor
  on PyTorch's kernels;
- ``minidl-torch``: minidl's functional step (``mlp_impls``'s ``minidl``) on
  torch tensors (``md.set_backend("torch")``);
- ``minidl-compiled-torch``: the ``nn`` step traced once by ``md.compile``
  (``mlp_impls``'s ``minidl-compiled``) on torch tensors, replayed op by op
  (CUDA graphs are CuPy's only): the step without the engine's Python per node;
- ``minidl-nn@<backend>``: minidl's ``nn.Sequential`` + ``optim.SGD`` step on
  any backend (``minidl-nn@jax``, ``minidl-nn@dask``, ...): the same script,
  only the backend named differs.

PyTorch eager (``torch``) is ``mlp_impls``'s own.
"""

from __future__ import annotations

import mlp_impls
from mlp_impls import LEARNING_RATE, Step, fixed_batch, initial_weights

TORCH_IMPLEMENTATIONS = ("handwritten-torch", "minidl-torch", "minidl-compiled-torch", "torch")


def build(name: str, sizes: tuple[int, ...], batch: int, device: str) -> Step | None:
    """The step of ``name`` if this file defines it, else None."""
    if name == "handwritten-torch":
        return _handwritten_torch(sizes, batch, device)
    if name == "minidl-torch":
        return mlp_impls._minidl_functional(sizes, batch, device, "torch")
    if name == "minidl-compiled-torch":
        return mlp_impls._minidl_compiled(sizes, batch, device, backend="torch")
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


def _minidl_nn_on(backend, sizes, batch, device) -> Step:
    step = mlp_impls._minidl_nn(sizes, batch, device, backend)
    synchronize = step.sync

    def sync():  # JAX dispatches asynchronously: the step is done when its parameters are ready
        for array in step.arrays():
            block = getattr(array, "block_until_ready", None)
            if block is not None:
                block()
        synchronize()

    step.sync = sync
    return step
