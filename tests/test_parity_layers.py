"""Parity with PyTorch: layers (with the same weights) and optimizers (the same steps)."""

from __future__ import annotations

import numpy
import pytest

import minidl as md
import minidl.nn as nn
import minidl.optim as optim
from parity import arrays, torch

TNN = torch.nn


def _same_weights(md_module, torch_module):
    """Copy torch's parameters and buffers into the minidl module, by name."""
    torch_state = dict(torch_module.state_dict())
    md_state = md_module.state_dict()
    for name in md_state:
        md_state[name] = torch_state[name].detach().numpy()
    md_module.load_state_dict({k: md.tensor(v, dtype=v.dtype.name) for k, v in md_state.items()})


def _compare_layer(md_module, torch_module, x, atol=1e-5):
    _same_weights(md_module, torch_module)
    mx = md.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    mout, tout = md_module(mx), torch_module(tx)
    numpy.testing.assert_allclose(mout.numpy(), tout.detach().numpy(), atol=atol, rtol=1e-4)
    weights = numpy.random.default_rng(1).standard_normal(tout.shape).astype("float32")
    (mout * md.tensor(weights)).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    numpy.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), atol=atol, rtol=1e-4)
    torch_params = dict(torch_module.named_parameters())
    for name, p in md_module.named_parameters():
        numpy.testing.assert_allclose(p.grad.numpy(), torch_params[name].grad.numpy(), atol=atol, rtol=1e-4,
                                      err_msg=f"gradient of {name}")
    for name, buffer in torch_module.named_buffers():
        if name.endswith("num_batches_tracked"):
            continue
        numpy.testing.assert_allclose(md_module.state_dict()[name].numpy(), buffer.numpy(), atol=atol, rtol=1e-4,
                                      err_msg=f"buffer {name}")


LAYERS = {
    "Linear": (lambda: nn.Linear(4, 3), lambda: TNN.Linear(4, 3), (5, 4)),
    "Linear no bias": (lambda: nn.Linear(4, 3, bias=False), lambda: TNN.Linear(4, 3, bias=False), (2, 4)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1), lambda: TNN.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
    "Conv2d stride": (lambda: nn.Conv2d(2, 3, 2, stride=2), lambda: TNN.Conv2d(2, 3, 2, stride=2), (1, 2, 6, 6)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), lambda: TNN.BatchNorm1d(3), (6, 3)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2), lambda: TNN.BatchNorm2d(2), (3, 2, 4, 4)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), lambda: TNN.MaxPool2d(2), (2, 2, 4, 6)),
    "MLP": (lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), nn.Tanh()),
            lambda: TNN.Sequential(TNN.Linear(4, 8), TNN.ReLU(), TNN.Linear(8, 2), TNN.Tanh()), (5, 4)),
}


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer(backend, name, training):
    make_md, make_torch, shape = LAYERS[name]
    md_module, torch_module = make_md(), make_torch()
    md_module.train(training)
    torch_module.train(training)
    _compare_layer(md_module, torch_module, arrays(shape)[0])


def test_dropout_in_evaluation(backend):
    _compare_layer(nn.Dropout(0.5).eval(), TNN.Dropout(0.5).eval(), arrays((3, 4))[0])


def test_embedding(backend):
    md_module, torch_module = nn.Embedding(5, 3), TNN.Embedding(5, 3)
    _same_weights(md_module, torch_module)
    index = numpy.array([[0, 4], [4, 1]])
    mout, tout = md_module(md.tensor(index)), torch_module(torch.tensor(index))
    numpy.testing.assert_allclose(mout.numpy(), tout.detach().numpy())
    mout.sum().backward()
    tout.sum().backward()
    numpy.testing.assert_allclose(md_module.weight.grad.numpy(), torch_module.weight.grad.numpy())


OPTIMIZERS = {
    "SGD": (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "SGD momentum": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    "SGD nesterov": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "Adam": (lambda p: optim.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "AdamW": (lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
              lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps(backend, name):
    make_md, make_torch = OPTIMIZERS[name]
    start = numpy.array([1.0, -2.0, 3.0], "float32")
    w, tw = nn.Parameter(md.tensor(start)), torch.tensor(start, requires_grad=True)
    opt, topt = make_md([w]), make_torch([tw])
    for _ in range(5):
        opt.zero_grad()
        topt.zero_grad()
        (w * w * w).sum().backward()
        (tw * tw * tw).sum().backward()
        opt.step()
        topt.step()
    numpy.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)
