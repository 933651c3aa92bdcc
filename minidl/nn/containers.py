"""Containers: modules that hold other modules.

``Sequential`` runs its children one after another (a whole MLP in one
line); ``ModuleList`` and ``ModuleDict`` only hold them, so their parameters
are registered, and leave the wiring to the ``forward`` you write.
"""

from __future__ import annotations

from collections.abc import Mapping
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


class DictOf(Module):
    """What ModuleDict and ParameterDict share: a dict interface over one of the module's registries."""

    _kind = "module"

    def _registry(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _store(self, key: str, value: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        try:
            return self._registry()[key]
        except KeyError:
            raise KeyError(f"{type(self).__name__} has no {self._kind} {key!r}; it holds "
                           f"{list(self._registry())}") from None

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"{type(self).__name__} keys are non-empty strings without '.', got {key!r}")
        self._store(key, value)

    def __delitem__(self, key: str) -> None:
        self[key]  # the KeyError that names the keys
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._registry())

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry())

    def __contains__(self, key: object) -> bool:
        return key in self._registry()

    def keys(self) -> Iterable[str]:
        return self._registry().keys()

    def values(self) -> Iterable[Any]:
        return self._registry().values()

    def items(self) -> Iterable[tuple[str, Any]]:
        return self._registry().items()

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def update(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        pairs = values.items() if isinstance(values, Mapping) else values
        for key, value in pairs:
            self[key] = value

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"a {type(self).__name__} has no forward(); pick its entries by key inside "
                                  "your own forward()")


class ModuleDict(DictOf):
    """A dict of modules whose parameters the parent registers (keys are the names in ``state_dict``).

    >>> import minidl.nn as nn
    >>> heads = nn.ModuleDict({"digit": nn.Linear(8, 10), "parity": nn.Linear(8, 2)})
    >>> sorted(heads), heads["parity"].out_features
    (['digit', 'parity'], 2)
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _registry(self) -> dict[str, Any]:
        return self._modules

    def _store(self, key: str, value: Any) -> None:
        setattr(self, key, _check_module(value, "ModuleDict"))
