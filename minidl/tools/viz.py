"""Draw the graph that produced a tensor, with Graphviz.

Autograd records, for every result, the Function that made it and that
Function's inputs.  Walking those links back from a tensor gives the whole
computation: this module writes it as Graphviz ``dot`` source
(`to_dot()`), and turns that into an SVG or PNG file (`render()`)
when Graphviz is installed.

Boxes are operations; ovals are tensors, labelled with their shape and dtype.
Colours say what autograd will do with each tensor:

- blue: a leaf that requires grad (a parameter): ``backward()`` fills ``.grad``;
- white: a leaf that does not (input data, constants);
- yellow: an intermediate result, whose gradient lives only during ``backward()``;
- green: the tensor the graph was drawn from (usually the loss).

>>> import minidl as md
>>> x = md.ones((2, 3), requires_grad=True)
>>> print(md.viz.to_dot(md.tanh(x).sum(), names={"x": x}).splitlines()[0])
digraph minidl {
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from minidl.autograd.function import Function
    from minidl.autograd.tensor import Tensor

__all__ = ["GraphvizNotFoundError", "to_dot", "render"]

COLORS = {"parameter": "#cfe3ff", "constant": "#ffffff", "intermediate": "#fff3c4", "root": "#c8f0c8"}
FORMATS = ("svg", "png", "pdf")

INSTALL_HINT = (
    "install Graphviz, which provides the 'dot' program: Debian/Ubuntu `sudo apt-get install graphviz`, "
    "macOS `brew install graphviz`, conda `conda install graphviz`, Windows `winget install graphviz`; "
    "or print md.viz.to_dot(tensor) and paste the source into any Graphviz viewer"
)


class GraphvizNotFoundError(RuntimeError):
    """Raised by `render()` when neither the ``dot`` program nor a working ``graphviz`` package is found."""


def to_dot(tensor: "Tensor", names: Mapping[str, "Tensor"] | None = None, rankdir: str = "TB",
           show_params: bool = True) -> str:
    """Graphviz source of the graph that produced ``tensor``.

    ``names`` labels tensors (``{"x": x, "w": w}``, or ``dict(model.named_parameters())``);
    a tensor's own ``.name`` is used otherwise.  ``rankdir`` is ``"TB"`` (top to bottom) or
    ``"LR"``.  With ``show_params``, small settings of an op (``axis=1``) appear in its box.

    >>> import minidl as md
    >>> w = md.ones((3,), requires_grad=True)
    >>> source = md.viz.to_dot((w * 2).sum(), names={"w": w})
    >>> "Multiply" in source and "w" in source and "(3,)" in source
    True
    """
    from minidl.autograd.tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot takes a minidl Tensor, got {type(tensor).__name__}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    label_of = {id(t): name for name, t in (names or {}).items()}
    writer = _DotWriter(tensor, label_of, show_params)
    writer.walk()
    header = [
        "digraph minidl {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555", arrowsize=0.7];',
    ]
    return "\n".join(header + writer.lines + ["}"]) + "\n"


def render(tensor: "Tensor", path: str | Path, format: str | None = None, **to_dot_options: Any) -> Path:
    """Draw the graph that produced ``tensor`` into ``path`` (``"svg"``, ``"png"`` or ``"pdf"``).

    The format defaults to the file's suffix, else SVG.  Uses the ``dot`` program when it is on
    the PATH, else the ``graphviz`` Python package; raises `GraphvizNotFoundError`, saying
    how to install Graphviz, when neither works.  Other keyword arguments go to `to_dot()`.
    Returns the path written.

    >>> import minidl as md
    >>> x = md.ones((2,), requires_grad=True)
    >>> md.viz.render((x * x).sum(), "graph.svg")  # doctest: +SKIP
    PosixPath('graph.svg')
    """
    path = Path(path)
    if format is None:
        format = path.suffix.lstrip(".").lower() or "svg"
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}, got {format!r}")
    source = to_dot(tensor, **to_dot_options)
    path.write_bytes(_run_graphviz(source, format))
    return path


def _run_graphviz(source: str, format: str) -> bytes:
    """Lay out ``source`` with Graphviz and return the file's bytes."""
    dot = shutil.which("dot")
    if dot is not None:
        result = subprocess.run([dot, f"-T{format}"], input=source.encode(), capture_output=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"Graphviz 'dot -T{format}' failed: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFoundError(f"md.viz.render could not find the 'dot' program on the PATH; {INSTALL_HINT}") from None
    try:
        return graphviz.Source(source).pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(
            f"the graphviz Python package is installed, but the 'dot' program it runs is not; {INSTALL_HINT}"
        ) from None


class _DotWriter:
    """One walk over the graph, from the root tensor back to the leaves, writing nodes and edges."""

    def __init__(self, root: "Tensor", label_of: dict[int, str], show_params: bool) -> None:
        self.root = root
        self.label_of = label_of
        self.show_params = show_params
        self.lines: list[str] = []
        self.tensor_ids: dict[int, str] = {}
        self.op_ids: dict[int, str] = {}

    def walk(self) -> None:
        self.tensor_node(self.root)
        # Explicit stack, not recursion: a graph 10,000 nodes deep must draw too.
        stack: list[Function] = [self.root.creator] if self.root.creator is not None else []
        if stack:
            self.op_node(stack[0])
            self.edge(self.op_ids[id(stack[0])], self.tensor_ids[id(self.root)])
        while stack:
            node = stack.pop()
            for position, tensor in enumerate(node.inputs or ()):
                seen = id(tensor) in self.tensor_ids
                tensor_id = self.tensor_node(tensor)
                label = f"{position}" if len(node.inputs) > 1 else None
                self.edge(tensor_id, self.op_ids[id(node)], label)
                creator = tensor.creator
                if seen or creator is None:
                    continue
                fresh = id(creator) not in self.op_ids
                self.edge(self.op_node(creator), tensor_id)
                if fresh:
                    stack.append(creator)

    def tensor_node(self, tensor: "Tensor") -> str:
        node_id, fresh = _node_id(self.tensor_ids, tensor, "t")
        if not fresh:
            return node_id
        name = self.label_of.get(id(tensor)) or tensor.name
        shape = "(" + ", ".join(str(d) for d in tensor.shape) + ("," if tensor.ndim == 1 else "") + ")"
        parts = [name] if name else []
        parts.append(f"{shape} {tensor.dtype.name}")
        if tensor is self.root:
            kind = "root"
        elif tensor.creator is not None:
            kind = "intermediate"
        else:
            kind = "parameter" if tensor.requires_grad else "constant"
        if kind == "parameter":
            parts.append("requires grad" + (" (has .grad)" if tensor.grad is not None else ""))
        self.lines.append(f'  {node_id} [label="{_escape(chr(10).join(parts))}", shape=ellipse, style=filled, '
                          f'fillcolor="{COLORS[kind]}"];')
        return node_id

    def op_node(self, node: "Function") -> str:
        node_id, fresh = _node_id(self.op_ids, node, "f")
        if not fresh:
            return node_id
        parts = [node.name]
        if node.released:
            parts.append("(freed by backward)")
        elif self.show_params:
            parts.extend(f"{k}={v!r}" for k, v in sorted(vars(node).items()) if _is_small_setting(v))
        self.lines.append(f'  {node_id} [label="{_escape(chr(10).join(parts))}", shape=box, '
                          f'style="rounded,filled", fillcolor="#eeeeee"];')
        return node_id

    def edge(self, source: str, target: str, label: str | None = None) -> None:
        extra = f' [label="{label}", fontsize=9]' if label is not None else ""
        self.lines.append(f"  {source} -> {target}{extra};")


def _node_id(ids: dict[int, str], obj: Any, prefix: str) -> tuple[str, bool]:
    """The dot name of ``obj`` (``t0``, ``f3``...), and whether it was just assigned."""
    if id(obj) in ids:
        return ids[id(obj)], False
    ids[id(obj)] = f"{prefix}{len(ids)}"
    return ids[id(obj)], True


def _is_small_setting(value: Any) -> bool:
    """Plain settings worth printing in an op's box (axis=1, keepdims=True), not saved arrays."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value is not None and len(repr(value)) <= 24
    if isinstance(value, tuple):
        return len(value) <= 6 and all(isinstance(v, (int, type(None))) for v in value)
    return False


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
