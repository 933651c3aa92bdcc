"""Long runs with the toolkit: the digits MLP of ``nn`` layers, trained by ``optim``, leaves nothing behind.

``test_memory.py`` holds the engine to this with hand-written parameters; here the
same promise covers what a user actually writes: ``nn.Sequential`` of ``nn.Linear``
and ``nn.ReLU``, batches from ``DataLoader``, and ``optim.SGD`` (with momentum) or
``optim.Adam``, which update parameters and their state in place (as PyTorch does).
``benchmarks/long_run.py --api nn`` runs the same loop for 10,000 steps.
"""

import gc
import tracemalloc
import weakref

import pytest
from test_memory import no_garbage_collector  # noqa: F401  (a fixture: the cycle collector off)

import minidl as md
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim

OPTIMIZERS = {
    "sgd": lambda params: optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params: optim.Adam(params, lr=1e-2),
}
# Bytes over 500 steps. A leaked activation (8 KiB a step) fails it; a leaked graph node (~0.2 KiB a step) could
# hide under it but fails the count of live objects. The bound leaves room for CPython's free lists, which keep up
# to 2,000 freed tuples of each length, counted by tracemalloc as allocated (they fill to ~190 KiB, then stop).
LEAK_BOUND = 256 * 1024


class Probe(nn.Module):
    """The identity, which hands its input (an activation of this step) to ``watch`` when one is set."""

    def __init__(self):
        super().__init__()
        self.watch = None

    def forward(self, x):
        if self.watch is not None:
            self.watch.append(x)
        return x


def setup(optimizer):
    """The digits MLP (64-32-10), its optimizer, and endless shuffled batches of the real digits."""
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), Probe(), nn.Linear(32, 10))
    loader = md.data.DataLoader(md.data.digits("train"), batch_size=64, shuffle=True, seed=0)

    def batches():
        while True:
            yield from loader

    return model, OPTIMIZERS[optimizer](model.parameters()), batches()


def train_step(model, opt, batches, watch=None):
    """One ordinary step; with ``watch``, also hand over what the step made: batch, activation, node, gradient."""
    x, labels = next(batches)
    model[2].watch = watch
    opt.zero_grad()
    loss = F.cross_entropy(model(x), labels)
    loss.backward()
    weight = model[0].weight
    if watch is not None:
        watch += [x, loss.creator, weight.grad]
    opt.step()
    model[2].watch = None
    return loss.item()  # a number, as a history should keep


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_what_a_finished_step_made_is_freed_without_the_garbage_collector(backend, optimizer, no_garbage_collector):
    model, opt, batches = setup(optimizer)
    train_step(model, opt, batches)  # the optimizer state exists from here on
    gc.collect()  # what setting up left (the data file's zip reader, ...) is not a step's
    weight = model[0].weight
    arrays_before = [weight.data] + [value for value in opt.state[weight].values() if hasattr(value, "shape")]
    watched = []
    train_step(model, opt, batches, watch=watched)
    assert len(watched) == 4
    refs = [weakref.ref(obj) for obj in watched]
    del watched
    train_step(model, opt, batches)
    alive = [type(ref()).__name__ for ref in refs if ref() is not None]
    assert alive == []  # batch, activation, graph node, gradient
    # The weight and the optimizer state (momentum, moments) are updated in place: the same arrays, so a
    # step allocates nothing that outlives it (where arrays are immutable, new ones replace the old).
    arrays_after = [weight.data] + [value for value in opt.state[weight].values() if hasattr(value, "shape")]
    if md.backend.library(backend).writeable:
        assert all(after is before for after, before in zip(arrays_after, arrays_before))
    assert len(arrays_after) == len(arrays_before) == (3 if optimizer == "adam" else 2)
    assert gc.collect() == 0  # and no reference cycle was left for the collector


def what_stays(run):
    """Run ``run()`` and return what it left alive: (new live Python objects, bytes Python allocated and kept)."""
    gc.collect()
    objects = len(gc.get_objects())
    tracemalloc.start()
    try:
        run()
        kept = tracemalloc.get_traced_memory()[0]  # tracemalloc counts from its start
    finally:
        tracemalloc.stop()
    gc.collect()
    return len(gc.get_objects()) - objects, kept


@pytest.mark.parametrize("name", ["numpy", "array_api_strict"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_five_hundred_steps_of_the_nn_model_do_not_grow_memory(name, optimizer):
    """Neither the bytes Python holds nor the count of live objects grows with the steps."""
    with md.using_backend(name):
        model, opt, batches = setup(optimizer)
        for _ in range(100):  # warm up: the optimizer state, first-call allocations
            train_step(model, opt, batches)
        losses = [0.0] * 500  # the list is made before the count starts; its 500 floats (12 KiB) are counted

        def train():
            for step in range(500):
                losses[step] = train_step(model, opt, batches)

        new_objects, growth = what_stays(train)
    assert new_objects < 100, f"{new_objects} more live Python objects after 500 steps"
    assert growth < LEAK_BOUND, f"memory grew by {growth} bytes over 500 steps"
    assert sum(losses[-50:]) / 50 < 0.2  # the steps really trained
