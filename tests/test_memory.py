"""Long runs: a finished training step leaves nothing behind.

The graph holds its output weakly and ``backward()`` releases every node, so the
tensors of a step are freed by reference counting the moment the step ends:
no reference cycles, no waiting for the garbage collector, no growth over
thousands of steps.
"""

import gc
import tracemalloc
import weakref

import pytest

import minidl as md
import minidl.nn.functional as F

LEAK_BOUND = 256 * 1024  # bytes over 2,000 steps: a leaked activation (8 KiB here) or gradient fails it


def setup(batch=32, features=64, hidden=32, classes=10):
    """Synthetic digits-sized data and the parameters of a 2-layer MLP."""
    md.manual_seed(0)
    x = md.randn(batch, features)
    labels = md.tensor([i % classes for i in range(batch)])
    params = [(md.randn(hidden, features) * 0.1).requires_grad_(), md.zeros(hidden, requires_grad=True),
              (md.randn(classes, hidden) * 0.1).requires_grad_(), md.zeros(classes, requires_grad=True)]
    return x, labels, params


def train_step(x, labels, params, watch=None):
    """One step: F.linear, F.relu, F.cross_entropy, then SGD by hand under md.no_grad()."""
    w1, b1, w2, b2 = params
    hidden = F.relu(F.linear(x, w1, b1))
    loss = F.cross_entropy(F.linear(hidden, w2, b2), labels)
    loss.backward()
    if watch is not None:
        watch += [hidden, loss.creator, w1.grad, w1]
    with md.no_grad():
        new_params = [(p - 0.1 * p.grad).requires_grad_() for p in params]
    return new_params, loss


@pytest.fixture
def no_garbage_collector():
    """Reference counting alone must free a step: the cycle collector stays off, and must find nothing."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_tensors_of_a_finished_step_are_freed_without_the_garbage_collector(backend, no_garbage_collector):
    x, labels, params = setup()
    watched = []
    params, _ = train_step(x, labels, params, watch=watched)
    refs = [weakref.ref(obj) for obj in watched]
    del watched
    params, _ = train_step(x, labels, params)
    assert [ref() is None for ref in refs] == [True] * 4  # activation, graph node, old gradient, old weight
    assert gc.collect() == 0  # and no reference cycle was left for the collector


def test_keeping_the_loss_after_backward_does_not_keep_the_graph(backend, no_garbage_collector):
    x, labels, params = setup()
    watched = []
    params, loss = train_step(x, labels, params, watch=watched)
    hidden = weakref.ref(watched[0])
    del watched
    assert hidden() is None and loss.creator.released  # backward released every node
    assert loss.item() > 0


def test_graph_without_backward_is_freed_with_its_output(backend, no_garbage_collector):
    w = md.ones((3, 3), requires_grad=True)
    hidden = md.tanh(w @ w)
    ref = weakref.ref(hidden)
    out = hidden.sum()
    del hidden
    assert ref() is not None  # the graph of ``out`` still needs it
    del out
    assert ref() is None


@pytest.mark.parametrize("name", ["numpy", pytest.param("array_api_strict", marks=pytest.mark.slow)])
def test_two_thousand_steps_do_not_grow_memory(name):
    """Neither array memory nor the count of live Python objects grows with the number of steps.

    A leak of one small object per step would add 2,000 objects; the bounds leave room only for
    caches of fixed size (CPython keeps up to 2,000 freed tuples of each length for reuse, and
    tracemalloc counts them as allocated: they fill up on array_api_strict, never past ~100 KiB).
    """
    with md.using_backend(name):
        x, labels, params = setup()
        for _ in range(200):  # warm up: caches, first-call allocations
            params, _ = train_step(x, labels, params)
        gc.collect()
        objects_before = len(gc.get_objects())
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(2000):
                params, loss = train_step(x, labels, params)
            growth = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        gc.collect()
        new_objects = len(gc.get_objects()) - objects_before
    assert new_objects < 200, f"{new_objects} more live Python objects after 2000 steps"
    assert growth < LEAK_BOUND, f"memory grew by {growth} bytes over 2000 steps"
    assert loss.item() < 0.1  # the steps really trained
