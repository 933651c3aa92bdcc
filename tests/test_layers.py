"""The package's layers import downward: read every module's imports with ``ast`` and check.

One exception is documented and allowed: ``minidl/autograd/tensor.py`` imports
``minidl.ops``, because a Tensor's operators (``a + b``, ``x.sum()``) are ops.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "minidl"

# Bottom to top. A module may import its own layer or any layer below, never one above.
LAYERS = [
    {"minidl.backend", "minidl.kernels"},
    {"minidl.autograd"},
    {"minidl.ops"},
    {"minidl.nn", "minidl.optim", "minidl.data", "minidl.distributed", "minidl.utils"},
    {"minidl.tools"},
    {"minidl.compile"},
]
DOCUMENTED_EXCEPTIONS = {("minidl.autograd.tensor", "minidl.ops")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The minidl modules that ``path`` imports at run time (not under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text())
    skipped = {id(node) for branch in ast.walk(tree) if isinstance(branch, ast.If)
               and "TYPE_CHECKING" in ast.unparse(branch.test) for node in ast.walk(branch)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("minidl"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("minidl"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in modules else node.module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {target for target in _imports(path, modules) if target != name}
            for name, path in modules.items()}


def _documented(module: str, target: str) -> bool:
    return any(module == source and (target == package or target.startswith(package + "."))
               for source, package in DOCUMENTED_EXCEPTIONS)


def _layer(module: str) -> int | None:
    for index, packages in enumerate(LAYERS):
        if any(module == package or module.startswith(package + ".") for package in packages):
            return index
    return None  # minidl/__init__.py: the top, which gathers everything


def test_every_import_goes_to_the_same_layer_or_below():
    upward = []
    for module, targets in _graph().items():
        for target in targets:
            low, high = _layer(module), _layer(target)
            if low is None or high is None or _documented(module, target):
                continue
            if high > low:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that go up a layer:\n" + "\n".join(sorted(upward))


def test_the_import_graph_has_no_cycle_but_the_documented_one():
    graph = _graph()
    for module in graph:
        graph[module] = {target for target in graph[module] if not _documented(module, target)}
    # Tarjan's strongly connected components: a cycle is a component of more than one module.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_the_exception_is_still_needed():
    # If tensor.py stopped importing ops, the documented exception should go from this file too.
    assert "minidl.ops" in _graph()["minidl.autograd.tensor"]
