"""Figures for chapter 3: pictures of real autograd graphs, drawn by ``md.viz``.

    python docs/scripts/autograd_graphs.py     # needs Graphviz's `dot` (apt-get install graphviz)

For each graph below it writes ``docs/figures/graph-<name>.dot`` (the source from
``md.viz.to_dot``) and ``graph-<name>.svg`` (laid out by Graphviz).  The test
``tests/test_docs_figures.py`` rebuilds each ``.dot`` and compares, so a change in
minidl that would change a picture fails CI until the figures are regenerated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import minidl as md
import minidl.nn.functional as F

FIGURES = Path(__file__).resolve().parents[1] / "figures"


def tanh_of_matmul():
    """The README's example: ``loss = tanh(x @ w).sum()``."""
    x = md.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = md.randn(2, 3, requires_grad=True)
    loss = md.tanh(x @ w).sum()
    return loss, {"x": x, "w": w, "loss": loss}


def reused_input():
    """``y = x * x + x``: x feeds three edges, so its gradient is a sum of three terms."""
    x = md.tensor(3.0, requires_grad=True)
    y = x * x + x
    return y, {"x": x, "y": y}


def mlp_step():
    """A two-layer MLP on a batch of 32 digits, with a softmax cross-entropy loss."""
    md.manual_seed(0)
    x = md.randn(32, 64)
    target = md.tensor([i % 10 for i in range(32)])
    w1, b1 = md.randn(128, 64, requires_grad=True), md.zeros((128,), requires_grad=True)
    w2, b2 = md.randn(10, 128, requires_grad=True), md.zeros((10,), requires_grad=True)
    logits = F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)
    loss = F.cross_entropy(logits, target)
    names = {"x (batch)": x, "W1": w1, "b1": b1, "W2": w2, "b2": b2, "loss": loss}
    return loss, names


def second_derivative():
    """``dy/dx`` for ``y = tanh(x)``, computed with ``create_graph=True``: the gradient has a graph too."""
    x = md.tensor(0.5, requires_grad=True)
    y = md.tanh(x)
    y.backward(create_graph=True)
    return x.grad, {"x": x, "dy/dx": x.grad}


GRAPHS: dict[str, Callable] = {
    "tanh": tanh_of_matmul,
    "reuse": reused_input,
    "mlp": mlp_step,
    "second-derivative": second_derivative,
}
OPTIONS = {"mlp": {"rankdir": "TB"}}


def dot_source(name: str) -> str:
    """The Graphviz source of figure ``name``, as minidl draws it today."""
    with md.using_backend("numpy"):
        md.manual_seed(0)
        tensor, names = GRAPHS[name]()
        return md.viz.to_dot(tensor, names=names, **OPTIONS.get(name, {}))


def main() -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    for name in GRAPHS:
        source = dot_source(name)
        (FIGURES / f"graph-{name}.dot").write_text(source)
        svg = md.viz._run_graphviz(source, "svg")
        (FIGURES / f"graph-{name}.svg").write_bytes(svg)
        print(f"wrote graph-{name}.svg ({len(svg) // 1024} KiB)")


if __name__ == "__main__":
    main()
