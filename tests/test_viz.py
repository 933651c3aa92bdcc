"""md.viz: the Graphviz picture of the graph that produced a tensor."""

from __future__ import annotations

import shutil
import sys
import types

import pytest

import minidl as md
from minidl import viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


def _small_graph():
    x = md.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = md.ones((2, 3), requires_grad=True)
    data = md.ones((2, 3))
    loss = (md.tanh(x @ w) * data).sum()
    return x, w, data, loss


def test_to_dot_lists_every_op_and_tensor_with_shape_and_dtype(backend):
    x, w, data, loss = _small_graph()
    source = viz.to_dot(loss, names={"x": x, "w": w, "data": data})
    assert source.startswith("digraph minidl {") and source.rstrip().endswith("}")
    for op in ("MatMul", "Tanh", "Multiply", "Sum"):
        assert f'label="{op}' in source
    assert r"x\n(2, 2) float32\nrequires grad" in source
    assert r"w\n(2, 3) float32\nrequires grad" in source
    assert r'data\n(2, 3) float32"' in source  # a constant: no "requires grad"
    assert source.count("shape=box") == 4 and source.count("shape=ellipse") == 7


def test_to_dot_colours_parameters_constants_intermediates_and_root():
    x, w, data, loss = _small_graph()
    source = viz.to_dot(loss, names={"x": x, "data": data})
    lines = source.splitlines()
    assert any(r'"x\n' in line and viz.COLORS["parameter"] in line for line in lines)
    assert any(r'"data\n' in line and viz.COLORS["constant"] in line for line in lines)
    assert sum(viz.COLORS["intermediate"] in line for line in lines) == 3
    assert sum(viz.COLORS["root"] in line for line in lines) == 1


def test_to_dot_shows_float64_and_tensor_names():
    a = md.ones((4,), dtype=md.float64, requires_grad=True)
    a.name = "a"
    source = viz.to_dot(md.exp(a).sum())
    assert r"a\n(4,) float64" in source


def test_a_tensor_used_twice_is_one_node_with_two_edges():
    x = md.ones((3,), requires_grad=True)
    source = viz.to_dot((x * x).sum(), names={"x": x})
    assert source.count(r'"x\n') == 1
    x_id = next(line.split()[0] for line in source.splitlines() if r'"x\n' in line)
    assert source.count(f"{x_id} -> ") == 2


def test_shared_subexpression_is_drawn_once():
    x = md.ones((3,), requires_grad=True)
    h = md.exp(x)
    source = viz.to_dot((h + h * 2.0).sum())
    assert source.count('label="Exp') == 1


def test_op_settings_appear_and_can_be_hidden():
    x = md.ones((2, 3), requires_grad=True)
    loss = x.sum(axis=1)
    assert "axes=(1,)" in viz.to_dot(loss)
    assert "axes=" not in viz.to_dot(loss, show_params=False)


def test_a_leaf_is_a_single_node():
    source = viz.to_dot(md.ones((2,), requires_grad=True))
    assert source.count("shape=ellipse") == 1 and "->" not in source


def test_a_graph_10000_nodes_deep_draws_without_recursion():
    x = md.ones((1,), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    source = viz.to_dot(y)
    assert source.count('label="Multiply') == 10_000


def test_a_graph_freed_by_backward_says_so():
    x = md.ones((2,), requires_grad=True)
    loss = (x * 3.0).sum()
    loss.backward()
    source = viz.to_dot(loss, names={"x": x})
    assert "freed by backward" in source


def test_rankdir_is_checked_and_used():
    x = md.ones((2,), requires_grad=True)
    assert "rankdir=LR;" in viz.to_dot(x.sum(), rankdir="LR")
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(x.sum(), rankdir="sideways")


def test_to_dot_rejects_non_tensors():
    with pytest.raises(TypeError, match="minidl Tensor"):
        viz.to_dot([1.0, 2.0])


def test_viz_is_exported_from_minidl():
    assert md.viz is viz


@needs_dot
@pytest.mark.parametrize("suffix, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_render_writes_the_format_of_the_suffix(tmp_path, suffix, magic):
    x = md.ones((2,), requires_grad=True)
    path = viz.render((x * x).sum(), tmp_path / f"graph.{suffix}")
    assert path.exists() and magic in path.read_bytes()[:400]


@needs_dot
def test_render_format_argument_wins_over_missing_suffix(tmp_path):
    x = md.ones((2,), requires_grad=True)
    path = viz.render(x.sum(), tmp_path / "graph", format="svg")
    assert b"<svg" in path.read_bytes()


def test_render_rejects_unknown_formats(tmp_path):
    x = md.ones((2,), requires_grad=True)
    with pytest.raises(ValueError, match="svg, png, pdf"):
        viz.render(x.sum(), tmp_path / "graph.gif")


def test_render_without_graphviz_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    x = md.ones((2,), requires_grad=True)
    with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz"):
        viz.render(x.sum(), tmp_path / "graph.svg")
    assert not (tmp_path / "graph.svg").exists()


def test_render_with_the_python_package_but_no_dot_program(tmp_path, monkeypatch):
    class ExecutableNotFound(RuntimeError):
        pass

    class Source:
        def __init__(self, source):
            self.source = source

        def pipe(self, format):
            raise ExecutableNotFound("failed to execute 'dot'")

    fake = types.SimpleNamespace(Source=Source, ExecutableNotFound=ExecutableNotFound)
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "graphviz", fake)
    x = md.ones((2,), requires_grad=True)
    with pytest.raises(viz.GraphvizNotFoundError, match="graphviz Python package is installed"):
        viz.render(x.sum(), tmp_path / "graph.png")


def test_render_uses_the_python_package_when_dot_is_not_on_the_path(tmp_path, monkeypatch):
    seen = {}

    class Source:
        def __init__(self, source):
            seen["source"] = source

        def pipe(self, format):
            seen["format"] = format
            return b"<svg/>"

    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "graphviz", types.SimpleNamespace(Source=Source, ExecutableNotFound=OSError))
    x = md.ones((2,), requires_grad=True)
    path = viz.render(x.sum(), tmp_path / "graph.svg")
    assert path.read_bytes() == b"<svg/>" and seen["format"] == "svg" and "Sum" in seen["source"]


def test_parameters_of_a_model_are_labelled_by_their_names():
    import minidl.nn as nn
    import minidl.nn.functional as F

    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    loss = F.cross_entropy(model(md.ones((5, 4))), md.tensor([0, 1, 0, 1, 1]))
    source = viz.to_dot(loss, names=dict(model.named_parameters()))
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert f'label="{name}\\n' in source
    assert source.count('label="Linear') == 2 and 'label="ReLU' in source
