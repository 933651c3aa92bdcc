"""Containers: modules that hold other modules.

``Sequential`` runs its children one after another (a whole MLP in one
line); ``ModuleList`` only holds them, so their parameters are registered,
and leaves the wiring to the ``forward`` you write.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from minidl.nn.module import Module


def _check_module(value: Any, container: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{container} holds nn.Module objects, got {type(value).__name__}; "
                        "wrap functions in a Module subclass")
    return value


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: append, len, iteration and indexing."""

    def _of(self, modules: list[Module]) -> "_ModuleSequence":  # pragma: no cover - abstract
        raise NotImplementedError

    def append(self, module: Module) -> "_ModuleSequence":
        setattr(self, str(len(self._modules)), _check_module(module, type(self).__name__))
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return self._of(modules[index])
        try:
            return modules[index]
        except IndexError:
            raise IndexError(f"{type(self).__name__} index {index} is out of range for {len(modules)} modules") \
                from None


class Sequential(_ModuleSequence):
    """Modules applied in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    >>> import minidl as md, minidl.nn as nn
    >>> mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    >>> mlp(md.ones((5, 64))).shape
    (5, 10)
    >>> mlp[0]
    Linear(in_features=64, out_features=128, bias=True)
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                setattr(self, str(name), _check_module(module, "Sequential"))
        else:
            for module in modules:
                self.append(module)

    def _of(self, modules: list[Module]) -> "Sequential":
        return Sequential(*modules)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the parent registers (index it, append, iterate).

    >>> import minidl.nn as nn
    >>> layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
    >>> len(layers), len(list(layers.parameters()))
    (3, 6)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _of(self, modules: list[Module]) -> "ModuleList":
        return ModuleList(modules)

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for module in modules:
            self.append(module)
        return self

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("a ModuleList has no forward(); iterate over it inside your own forward()")
