"""GradScaler: dynamic loss scaling, so float16 gradients neither underflow to zero nor overflow unseen.

float16 holds numbers from about 6e-8 (subnormal) to 65504. Gradients of a
float16 forward are often smaller than that floor and round to zero. Scaling
the loss by a large factor S (65536 to start) scales every gradient by S, into
range; before the step they are divided by S again (in float32 parameters'
gradients, where nothing is lost). If S was too large, some gradient overflows
to inf or nan: that step is skipped and S halved. After ``growth_interval``
good steps in a row S doubles, to probe upward again. PyTorch-shaped:

>>> import minidl as md, minidl.nn as nn, minidl.optim as optim
>>> model = nn.Linear(4, 2)
>>> optimizer = optim.SGD(model.parameters(), lr=0.1)
>>> scaler = md.amp.GradScaler()
>>> with md.autocast(dtype=md.float16):
...     loss = model(md.ones((3, 4))).mean()
>>> scaler.scale(loss).backward()
>>> scaler.step(optimizer)          # unscales, checks for inf/nan, then steps (or skips)
>>> scaler.update()
>>> scaler.get_scale()
65536.0
"""

from __future__ import annotations

from typing import Any

from minidl.autograd.tensor import Tensor
from minidl.optim.optimizer import Optimizer, update_observer

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Scale the loss, unscale the gradients, skip steps with inf/nan, and adapt the scale.

    ``device`` is accepted for porting (``torch.amp.GradScaler("cuda")``) and
    ignored: the gradients' backend decides where the checks run.

    Each ``step`` reads one boolean from the device (were all gradients
    finite?), as PyTorch's does, and the scale is a Python number that
    changes with that answer: ``md.compile`` refuses a step that uses a
    scaler (a replay could neither skip a step nor change the scale).
    Dynamic scaling is for eager training.
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
        if growth_interval < 1:
            raise ValueError(f"GradScaler: growth_interval must be a positive number of steps, got {growth_interval}")
        self.device = device
        self._enabled = bool(enabled)
        self._scale = float(init_scale)
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0          # good steps in a row since the scale last changed
        self._per_optimizer: dict[int, dict[str, Any]] = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def scale(self, outputs: Any) -> Any:
        """``outputs`` times the scale: a Tensor, or a list/tuple of them (unchanged when disabled)."""
        if not self._enabled:
            return outputs
        _refuse_inside_compile()
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(output) for output in outputs)
        raise TypeError(f"GradScaler.scale takes a Tensor (the loss) or a list/tuple of them, got "
                        f"{type(outputs).__name__}")

    def unscale_(self, optimizer: Optimizer) -> None:
        """Divide the optimizer's gradients by the scale, in place, and note whether any is inf or nan.

        Call it before clipping gradients; ``step`` calls it if you did not.
        """
        if not self._enabled:
            return
        _refuse_inside_compile()
        state = self._state(optimizer)
        if state["stage"] is _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update()")
        if state["stage"] is _STEPPED:
            raise RuntimeError("unscale_() is being called after step(); call update() first")
        inverse = 1.0 / self._scale
        xp, finite = None, []
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp, grad = p.grad.xp, p.grad.data * inverse  # a new array: a gradient may be shared by leaves
                p.grad = Tensor._wrap(grad, xp, p.grad.backend)
                finite.append(xp.all(xp.isfinite(grad)))
        # One read from the device for the whole optimizer, not one per parameter.
        state["found_inf"] = bool(finite) and not bool(xp.all(xp.stack(finite)))
        state["stage"] = _UNSCALED

    def step(self, optimizer: Optimizer, *args: Any, **kwargs: Any) -> Any:
        """Unscale (if not done yet), then ``optimizer.step()`` unless a gradient was inf or nan."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs or args:
            raise RuntimeError("GradScaler.step does not support a closure; compute the loss and backward() first")
        state = self._state(optimizer)
        if state["stage"] is _STEPPED:
            raise RuntimeError("step() has already been called since the last update()")
        if state["stage"] is _READY:
            self.unscale_(optimizer)
        state["stage"] = _STEPPED
        return None if state["found_inf"] else optimizer.step()

    def update(self, new_scale: float | None = None) -> None:
        """Adapt the scale after this iteration's steps: back off after inf/nan, grow after a good run."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
            self._growth_tracker = 0
        else:
            stepped = [state for state in self._per_optimizer.values() if state["stage"] is not _READY]
            if not stepped:
                raise RuntimeError("update(): no optimizer was stepped (or unscaled) by this scaler since the "
                                   "last update(); call scaler.step(optimizer) first")
            if any(state["found_inf"] for state in stepped):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer.clear()

    def state_dict(self) -> dict[str, Any]:
        """The scale and its schedule, as PyTorch's GradScaler names them (empty when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("GradScaler.load_state_dict got an empty state dict (saved from a disabled scaler)")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])

    def _state(self, optimizer: Optimizer) -> dict[str, Any]:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": False})


def _refuse_inside_compile() -> None:
    """md.compile (watching the optimizer) cannot replay a scaler: it asks the tracer to refuse."""
    observer = update_observer()
    if observer is not None:
        observer.refuse("a GradScaler reads whether the gradients are finite and changes its scale between "
                        "steps, which a replay cannot do: compile the step without the scaler (float32, or "
                        "bfloat16 autocast, needs none), or run the scaled step without md.compile")

