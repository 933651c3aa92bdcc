"""Linear's backward GEMMs: nodes for a hook or under create_graph, the bare GEMM otherwise, the same numbers."""

from __future__ import annotations

import numpy as np

import minidl as md
import minidl.nn.functional as F
from minidl.autograd.hooks import install_hook
from minidl.ops import linalg


class Recorder:
    """A hook that lets every op run and notes the name of each node it sees run forward."""

    def __init__(self):
        self.names = []

    def forward(self, node, call):
        self.names.append(node.name)
        return call()

    def backward(self, node, call):
        return call()


def gradients(x_shape=(5, 6), hook=None):
    """The gradients of a two-layer MLP on inputs of ``x_shape`` (batch axes before the features)."""
    md.manual_seed(0)
    x = md.randn(*x_shape)
    layers = [(md.randn(4, 6, requires_grad=True), md.randn(4, requires_grad=True)),
              (md.randn(3, 4, requires_grad=True), md.randn(3, requires_grad=True))]
    h = F.relu(F.linear(x, *layers[0]))
    loss = F.linear(h, *layers[1]).sum()
    if hook is None:
        loss.backward()
    else:
        with install_hook(hook):
            loss.backward()
    return [p.grad.numpy() for layer in layers for p in layer]


def test_a_hook_sees_the_backward_gemms_as_nodes_and_gets_the_same_bits(backend):
    for x_shape in ((5, 6), (2, 5, 6)):  # (batch axes folded into the rows)
        recorder = Recorder()
        watched = gradients(x_shape, recorder)
        assert recorder.names.count("TransposedMatMul") == 2 and recorder.names.count("MatMul") == 1
        for plain, seen in zip(gradients(x_shape), watched):
            np.testing.assert_array_equal(plain, seen)


def test_without_a_hook_the_backward_gemms_make_no_node(backend, monkeypatch):
    ran = []
    for node_class in (linalg.MatMul, linalg.TransposedMatMul):
        forward = node_class.forward
        monkeypatch.setattr(node_class, "forward", lambda self, a, b, forward=forward: ran.append(self) or
                            forward(self, a, b))
    gradients()
    assert ran == []
    gradients(hook=Recorder())
    assert len(ran) == 3  # the hook's nodes: two weight gradients, one input gradient


def test_the_backward_gemms_run_through_the_chosen_gemm(backend, monkeypatch):
    calls = []

    def counting_gemm(a, b):
        calls.append((tuple(a.shape), tuple(b.shape)))
        return a @ b

    monkeypatch.setattr(linalg, "gemm", counting_gemm)  # what md.set_matmul's choice runs through
    gradients()
    # forward: (5, 6) @ (6, 4), (5, 4) @ (4, 3); backward: each weight's (out, 5) @ (5, in), and the
    # second layer's input gradient (5, 3) @ (3, 4) (the first layer's input wants none)
    assert sorted(calls) == sorted([((5, 6), (6, 4)), ((5, 4), (4, 3)), ((4, 5), (5, 6)), ((3, 5), (5, 4)),
                                    ((5, 3), (3, 4))])


def test_under_create_graph_the_gemms_are_recorded_with_the_same_values(backend):
    grads = []
    for create_graph in (False, True):
        md.manual_seed(0)
        x, w = md.randn(3, 2, requires_grad=True), md.randn(4, 2, requires_grad=True)
        F.linear(x, w).tanh().sum().backward(create_graph=create_graph)
        assert (x.grad.creator is not None) == create_graph  # a differentiable gradient: a graph of its own
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
