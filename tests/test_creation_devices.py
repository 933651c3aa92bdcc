"""Arrays minidl makes inside ops and optimizers land on the device of the tensors, not the library's default.

On a GPU, ``md.set_backend("torch", device="cuda")`` puts tensors on CUDA,
while ``torch.arange(3)`` without ``device=`` still makes a CPU tensor, and
mixing the two fails. There is no GPU here, so these tests make the
library's default device differ from the chosen one another way: torch's
default device set to ``meta`` (tensors without storage) while minidl's
tensors are on the CPU. Any array created without ``device=`` then lands
on ``meta`` and the step fails with torch's device-mismatch error (0-d
arrays made from Python numbers aside: see the comment in the last test).
"""

from __future__ import annotations

import numpy
import pytest

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim

torch = pytest.importorskip("torch")


@pytest.fixture
def default_device_elsewhere():
    previous, default = (md.get_backend(), md.backend.get_device()), torch.get_default_device()
    md.set_backend("torch", device="cpu")
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device(default)
        md.set_backend(*previous)


@pytest.mark.parametrize("make_optimizer", [lambda ps: optim.Adam(ps, lr=0.01),
                                            lambda ps: optim.Adagrad(ps, lr=0.1)], ids=["adam", "adagrad"])
def test_a_training_step_makes_its_arrays_on_the_tensors_device(default_device_elsewhere, make_optimizer):
    rng = numpy.random.default_rng(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = make_optimizer(model.parameters())
    x, y = md.tensor(rng.normal(size=(16, 6)).astype("float32")), md.tensor(numpy.arange(16) % 3)
    for smoothing in (0.0, 0.1):  # the one-hot fast path, then the general one
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y, label_smoothing=smoothing)
        loss.backward()
        optimizer.step()
    assert numpy.isfinite(loss.item())


def test_creation_functions_use_the_chosen_device(default_device_elsewhere):
    made = [md.zeros((2, 3)), md.ones(3), md.full((2,), 1.5), md.arange(4), md.linspace(0, 1, 5), md.eye(3),
            md.zeros_like(md.ones(2)), md.ones_like(md.ones(2)), md.full_like(md.ones(2), 2.0),
            md.tensor([1.0, 2.0], device="cpu"), md.randn(2, 2)]
    assert all(t.data.device.type == "cpu" for t in made)


def test_ops_that_make_arrays_use_the_input_device(default_device_elsewhere):
    a = md.tensor(numpy.arange(12.0).reshape(3, 4).astype("float32"), requires_grad=True)
    image = md.tensor(numpy.ones((1, 2, 5, 5), "float32"), requires_grad=True)
    kernel = md.tensor(numpy.ones((3, 2, 3, 3), "float32"), requires_grad=True)
    outs = [md.diagonal(a).sum(), a[md.tensor(numpy.array([0, 2]))].sum(), F.pad(a, (1, 1)).sum(),
            F.conv2d(image, kernel, padding=1).sum(), md.clip(a, 1.0, 5.0).sum(), F.leaky_relu(a, 0.1).sum(),
            F.one_hot(md.tensor(numpy.array([0, 2, 1])), 3).astype(md.float32).sum(), a[::2, 1:].sum(),
            md.gather(a, 1, md.tensor(numpy.array([[0], [1], [3]]))).sum()]
    # (A Python number becomes a 0-d tensor on torch's default device: CUDA takes one beside its own tensors,
    # as it takes a number, but meta does not; so the write below is of a tensor.)
    written = a + a
    written[0, 1] = md.tensor(5.0)  # an in-place write with grad: its backward masks the written place
    outs.append(written.sum())
    total = outs[0]
    for out in outs[1:]:
        total = total + out
    total.backward()
    assert a.grad.data.device.type == "cpu" and image.grad.data.device.type == "cpu"
