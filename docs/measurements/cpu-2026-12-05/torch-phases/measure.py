"""Where minidl's MLP step on torch tensors loses to PyTorch eager: call by call, and what array-api-compat costs.

    OPENBLAS_NUM_THREADS=1 python docs/measurements/cpu-2026-12-05/torch-phases/measure.py OUT

The SGD step of ``benchmarks/mlp_step.py --torch``, on torch CPU tensors, one thread, timed in phases (process
CPU time): the gradients set to None, the three linear layers, the two ReLUs, the loss, backward, the update.

- ``minidl-torch``: minidl's functional step, as ``benchmarks/mlp_impls.py`` writes it;
- ``minidl-torch-own``: the same step with the array-api-compat functions that it calls through a wrapper
  (``clip``, ``sum``, ``max``, ``where``, ``arange``, ``astype``, ``count_nonzero``, ``reshape``) replaced by
  the torch functions they wrap. This is for this measurement only, to price the translation layer; the script
  checks that the step then calls no wrapper of array-api-compat and that both give the same losses, bit for bit;
- ``torch-functional``: the same calls in PyTorch (``F.linear``, ``torch.relu``, ``F.cross_entropy``,
  ``backward()``, the same in-place update under ``torch.no_grad()``): PyTorch's autograd, phase by phase.

The ratio to PyTorch eager as the issue's goal states it (nn.Sequential, optim.SGD) is ``mlp_step.py``'s; this
script adds clock reads inside the step, so its totals are not that benchmark's.

Each clock read (process_time_ns, a system call) is charged to the phase it ends, alike in every column. At
784-128-128-10 / batch 64 and at 8-16-16-4 / batch 4; 11 interleaved rounds; per phase, the median over the
rounds of the mean per call; the "step" row is the sum of those medians. Writes OUT/torch_phases.txt with the
machine.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]  # this tree's minidl, installed or not

PHASES = ("to None", "linear x3", "relu x2", "loss", "backward", "update")


def _torch_own_functions():
    """The torch functions that array-api-compat's wrappers for this step call, with the standard's signatures."""
    import torch

    return {"clip": lambda x, /, min=None, max=None: torch.clamp(x, min=min, max=max),
            "sum": lambda x, /, *, axis=None, dtype=None, keepdims=False: torch.sum(
                x, dim=() if axis is None else axis, keepdim=keepdims, dtype=dtype),
            "max": lambda x, /, *, axis=None, keepdims=False: torch.amax(x, dim=() if axis is None else axis,
                                                                       keepdim=keepdims),
            "where": torch.where, "arange": torch.arange,
            "astype": lambda x, dtype, /, *, copy=True, device=None: x.to(dtype),
            "count_nonzero": lambda x, /, *, axis=None, keepdims=False: torch.count_nonzero(x, dim=axis),
            "reshape": lambda x, /, shape, *, copy=None: torch.reshape(x, shape)}


@contextlib.contextmanager
def _own_functions(own: bool):
    """Within, array_api_compat.torch's wrapped functions are torch's own (when ``own``)."""
    import array_api_compat.torch as xp

    replaced = _torch_own_functions() if own else {}
    kept = {name: getattr(xp, name) for name in replaced}
    for name, function in replaced.items():
        setattr(xp, name, function)
    try:
        yield
    finally:
        for name, function in kept.items():
            setattr(xp, name, function)


def _wrappers_called(run) -> dict[str, int]:
    """The array-api-compat wrappers (functions of array_api_compat, not torch's own) that one ``run`` calls."""
    import array_api_compat.torch as xp

    calls: dict[str, int] = {}
    kept = {name: function for name, function in vars(xp).items()
            if callable(function) and getattr(function, "__module__", "").startswith("array_api_compat")}

    def counted(name, function):
        def call(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return function(*args, **kwargs)
        return call

    for name, function in kept.items():
        setattr(xp, name, counted(name, function))
    try:
        run(dict.fromkeys(PHASES, 0))
    finally:
        for name, function in kept.items():
            setattr(xp, name, function)
    return calls


def _phased(sizes, batch, library, own=False):
    """One step of the functional MLP in ``library`` ("minidl" on torch tensors, or "torch"), timed by phase."""
    import torch

    from mlp_impls import LEARNING_RATE, fixed_batch, initial_weights

    x_host, y_host = fixed_batch(sizes, batch)
    if library == "minidl":
        import minidl as md
        import minidl.nn.functional as F

        md.set_backend("torch")
        x, y = md.tensor(x_host), md.tensor(y_host)
        layers = [(md.tensor(w, requires_grad=True), md.tensor(b, requires_grad=True))
                  for w, b in initial_weights(sizes)]
        linear, relu, cross_entropy, no_grad = F.linear, F.relu, F.cross_entropy, contextlib.nullcontext
    else:
        F = torch.nn.functional
        x, y = torch.from_numpy(x_host), torch.from_numpy(y_host)
        layers = [(torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_())
                  for w, b in initial_weights(sizes)]
        linear, relu, cross_entropy, no_grad = F.linear, torch.relu, F.cross_entropy, torch.no_grad
    params = [p for layer in layers for p in layer]
    clock = time.process_time_ns

    def run(times):
        with _own_functions(own):
            marks = [clock()]
            for p in params:
                p.grad = None
            marks.append(clock())
            h, spent = x, {"linear x3": 0, "relu x2": 0}
            for index, (weight, bias) in enumerate(layers):
                h = linear(h, weight, bias)
                now = clock()
                spent["linear x3"] += now - marks[-1]
                marks.append(now)
                if index < len(layers) - 1:
                    h = relu(h)
                    now = clock()
                    spent["relu x2"] += now - marks[-1]
                    marks.append(now)
            loss = cross_entropy(h, y)
            marks.append(clock())
            loss.backward()
            marks.append(clock())
            with no_grad():
                for p in params:
                    p.data -= LEARNING_RATE * p.grad.data
            marks.append(clock())
        times["to None"] += marks[1] - marks[0]
        times["linear x3"] += spent["linear x3"]
        times["relu x2"] += spent["relu x2"]
        for phase, (begin, end) in zip(("loss", "backward", "update"), zip(marks[-4:], marks[-3:])):
            times[phase] += end - begin
        return loss.item()

    return run


def _phase_medians(ways, rounds, calls, warmup):
    """Per way and phase: the median over ``rounds`` of the mean microseconds per call, the ways in
    benchmarks/measuring.py's interleaved order."""
    from measuring import interleaved_order

    per_round = {name: {phase: [] for phase in PHASES} for name in ways}
    for name in interleaved_order(list(ways), rounds):
        times = dict.fromkeys(PHASES, 0)
        for _ in range(warmup):
            ways[name](dict.fromkeys(PHASES, 0))
        for _ in range(calls):
            ways[name](times)
        for phase in PHASES:
            per_round[name][phase].append(times[phase] / calls / 1e3)
    return {name: {phase: statistics.median(values) for phase, values in phases.items()}
            for name, phases in per_round.items()}


def main() -> None:
    import torch

    from measuring import write_report
    from mlp_step import environment

    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    machine = environment("cpu")  # (its load average: before the rounds)
    lines = []
    for sizes, batch, calls in (([784, 128, 128, 10], 64, 300), ([8, 16, 16, 4], 4, 2000)):
        ways = {"minidl-torch": _phased(sizes, batch, "minidl"),
                "minidl-torch-own": _phased(sizes, batch, "minidl", own=True),
                "torch-functional": _phased(sizes, batch, "torch")}
        losses = {name: [run(dict.fromkeys(PHASES, 0)) for _ in range(5)] for name, run in ways.items()}
        wrapped = _wrappers_called(ways["minidl-torch"])
        left = _wrappers_called(ways["minidl-torch-own"])
        if left:
            raise SystemExit(f"with torch's own functions the step still calls array-api-compat's {left}")
        if losses["minidl-torch"] != losses["minidl-torch-own"]:
            raise SystemExit(f"torch's own functions changed the losses: {losses}")
        medians = _phase_medians(ways, rounds=11, calls=calls, warmup=20)
        steps = {name: sum(medians[name].values()) for name in ways}
        lines.append(f"{'-'.join(map(str, sizes))}, batch {batch} ({calls} steps a round), us per step")
        lines.append(f"  {'phase':10s} {'minidl-torch':>13s} {'minidl-torch-own':>17s} {'torch-functional':>17s} "
                     f"{'minidl - torch-functional':>26s}")
        for phase in PHASES + ("step",):
            row = {name: steps[name] if phase == "step" else medians[name][phase] for name in ways}
            lines.append(f"  {phase:10s} {row['minidl-torch']:13.1f} {row['minidl-torch-own']:17.1f} "
                         f"{row['torch-functional']:17.1f} {row['minidl-torch'] - row['torch-functional']:+26.1f}")
        lines.append(f"  array-api-compat's wrappers (minidl-torch - minidl-torch-own): "
                     f"{steps['minidl-torch'] - steps['minidl-torch-own']:+.1f} us per step, for "
                     f"{sum(wrapped.values())} calls ({', '.join(f'{n} {c}' for n, c in sorted(wrapped.items()))})")
        lines.append(f"  first loss: minidl {losses['minidl-torch'][0]:.7f} (the same with torch's own functions, "
                     f"5 steps bit for bit), PyTorch {losses['torch-functional'][0]:.7f}")
        lines.append("")
    write_report(out, "torch_phases.txt", "minidl's MLP step on torch tensors against PyTorch's autograd, phase by "
                 "phase; median of 11 interleaved rounds, process CPU time", machine, lines,
                 torch=f"{torch.__version__} (one thread)")


if __name__ == "__main__":
    main()
