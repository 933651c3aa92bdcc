"""``md.compile(step_fn)``: trace a training step once, then replay its array operations.

The contract (the long version is ``docs/static-graphs.md``):

1. ``step = md.compile(step_fn)``; call ``step(...)`` as you would call
   ``step_fn``, with Tensors (the batch) and Python values (frozen).
2. The first call runs ``step_fn`` eagerly, as usual (optimizer state and
   gradients take their steady form).  The second runs it once more, traced:
   every array operation is recorded while it really runs.  Later calls
   replay the recording: no Tensor, no graph node, no line of ``step_fn``
   runs, only the array operations, in order.
3. A replay reads the arrays of its Tensor arguments and the *current* arrays
   of every leaf tensor the step used (its parameters), writes back what the
   traced call left in their ``.data`` and ``.grad``, and returns fresh,
   detached Tensors shaped like ``step_fn``'s return value.
4. State between calls is part of the program (``minidl.compile.state``):
   an optimizer's float settings (``lr``, ``betas``, ...) are inputs read
   at each replay, so a learning-rate schedule never retraces; its state
   (momentum, Adam's moments, step counts) and the modules' buffers
   (BatchNorm's running statistics) are read and written back at each
   replay; each train/eval mode of the modules gets its own program; dropout
   masks are drawn again at each replay from the host generator.
5. Errors instead of wrong numbers: other shapes, dtypes or backends than at
   the trace; a value read into Python (an ``if`` on a tensor, a label check)
   that changes; other state kept between calls (a list of tensors), random
   numbers drawn on the host other than dropout masks, a GradScaler,
   gradients summed over calls (no ``zero_grad``), a lazy library (Dask: its
   operations build a graph already).  Other Python values the
   step reads are frozen at the trace: after changing one, call
   ``step.reset()``.
6. On CuPy, the first replay also captures the program as a CUDA graph
   (``cuda_graph=None``, the default; ``True`` insists, ``False`` never
   tries) and later replays launch it with one call.  Each batch is copied
   into the graph's own input arrays, and the leaf tensors (parameters)
   move into arrays of the graph at the capture; the guards run just before
   the launch; returned tensors are fresh copies, while parameters and
   gradients are the graph's arrays, updated in place at each call.
"""

from __future__ import annotations

from typing import Any, Callable

from minidl.autograd.function import Function
from minidl.autograd.hooks import install_hook
from minidl.autograd.tensor import Tensor
from minidl.backend import host_rng, observing_draws
from minidl.compile.graph_replay import GraphReplay, capture
from minidl.compile.program import Program
from minidl.compile.signature import backends_of, check_signature, refuse_lazy, signature_of
from minidl.compile.state import StateObserver, has_draws, host_checks_hold, mode_of
from minidl.compile.tracer import CompileError, Trace, TracedArray, real_namespace
from minidl.nn.module import observing_calls
from minidl.optim.optimizer import free_replaced_gradients_at_once, observing_updates


class _Adopt:
    """A hook that brings each leaf tensor (a parameter, a constant) into the trace when an op first uses it."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.adopted: list[tuple[Tensor, int, Any, Any]] = []  # tensor, its slot, its xp, its grad before
        self.original: dict[int, Any] = {}  # slot -> the array the tensor held

    def forward(self, node: Function, call: Callable[[], Any]) -> Any:
        if not isinstance(node.inputs[0], Tensor):
            return call()  # an op on raw arrays inside backward(): they are traced arrays already
        for tensor in node.inputs:
            data = tensor.data
            if not isinstance(data, TracedArray) or data.trace is not self.trace:
                self.adopt(tensor)
        node.xp = node.inputs[0].xp  # set before the hook ran, maybe from a tensor adopted just now
        return call()

    def backward(self, node: Function, call: Callable[[], Any]) -> Any:
        return call()

    def adopt(self, tensor: Tensor) -> None:
        if isinstance(tensor.data, TracedArray):
            raise CompileError("a tensor holds an array from an earlier, refused md.compile trace (kept in "
                               "optimizer or module state?); recreate that state and run without md.compile")
        refuse_lazy((tensor.backend,))  # a parameter of a lazy library, though the batch is not
        slot = self.trace.new_slot()
        self.adopted.append((tensor, slot, tensor.xp, tensor.grad))
        self.original[slot] = tensor.data
        tensor.data = self.trace.wrap(tensor.data, slot)
        tensor.xp = self.trace.namespace(tensor.xp)

    def restore(self) -> None:
        """Put real arrays back into every adopted tensor and its gradient."""
        for tensor, _, xp, _ in self.adopted:
            if isinstance(tensor.data, TracedArray):
                tensor.data = tensor.data.value
            tensor.xp = xp
            grad = tensor.grad
            if grad is not None and isinstance(grad.data, TracedArray):
                tensor.grad = Tensor._wrap(grad.data.value, xp, tensor.backend)


class _Out:
    """Marks where a Tensor goes in the step's return value."""

    def __init__(self, index: int, xp: Any, backend: str) -> None:
        self.index, self.xp, self.backend = index, xp, backend


class _Entry:
    """One traced program of a step (one per train/eval mode), and what its replays read and write."""

    def __init__(self) -> None:
        self.calls = 0
        self.program: Program | None = None
        self.graph: GraphReplay | None = None
        self.graph_note: str | None = None


class CompiledStep:
    """A step function traced once and replayed; made by `compile()`."""

    def __init__(self, function: Callable[..., Any], cuda_graph: bool | None = None) -> None:
        self.function = function
        self.cuda_graph_mode = cuda_graph
        self.reset()

    def reset(self) -> None:
        """Forget the traces: the next call runs eagerly, and the one after traces again."""
        self._entries: dict[tuple, _Entry] = {}
        self._modules: list = []         # the modules the traces saw: their train/eval flags pick the program
        self._entry = _Entry()           # the program of the latest call
        self.traces = 0                  # how many times the step was traced (a schedule must not add any)

    program = property(lambda self: self._entry.program, doc="The latest call's program (None before its trace).")
    graph_note = property(lambda self: self._entry.graph_note,
                          doc="Why replays do not use a CUDA graph (None: they do, or no replay yet).")
    calls = property(lambda self: self._entry.calls)
    _leaves = property(lambda self: self._entry.leaves)

    @property
    def uses_cuda_graph(self) -> bool:
        """Whether replays launch a captured CUDA graph."""
        return self._entry.graph is not None

    @property
    def source(self) -> str | None:
        """The replayed program as Python source (None until the trace)."""
        return self.program.source if self.program is not None else None

    def sources(self, args: tuple) -> list:
        """What a replay of the latest program reads: the batch, the leaf tensors, then the optimizers' settings
        and state (Python numbers where they are numbers, as in the eager step)."""
        entry = self._entry
        return ([arg.data for arg in args if isinstance(arg, Tensor)] + [tensor.data for tensor in entry.leaves]
                + [source.read() for source in entry.inputs])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"a compiled step takes positional arguments only, got {sorted(kwargs)}")
        key = mode_of(self._modules)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        self._entry = entry
        if entry.program is not None:
            if host_checks_hold(entry.checks, entry.settings):
                return self._replay(entry, args)
            entry.program = entry.graph = None  # an optimizer setting the program depends on changed
        signature = signature_of(args)  # refuse at once what the trace would refuse
        entry.calls += 1
        if entry.calls == 1:
            return self.function(*args)
        return self._trace(entry, args, signature)

    # ---- the trace -----------------------------------------------------------------------------------------
    def _trace(self, entry: _Entry, args: tuple, signature: list[tuple]) -> Any:
        refuse_lazy(backends_of(args))
        trace = Trace()
        traced_args = [_traced(arg, trace) for arg in args]
        sources = [arg.data.slot for arg in traced_args if isinstance(arg, Tensor)]
        hook, rng = _Adopt(trace), host_rng()
        observer = StateObserver(trace, hook.adopt)
        try:
            with install_hook(hook), free_replaced_gradients_at_once(), observing_updates(observer), \
                    observing_calls(observer.module_called), observing_draws(observer.draw):
                result = self.function(*traced_args)
            observer.finish()
            if host_rng() is not rng or rng.bit_generator.state != observer.rng_state:
                raise CompileError("the step draws random numbers on the host other than dropout masks (md.randn, "
                                   "md.manual_seed inside the step): a replay would repeat the same numbers at every "
                                   "call; draw them outside the step and pass them in, or run it without md.compile")
            template, returned = _template(result)
            writes = _writes(hook)
        except Exception as error:
            observer.finish()
            hook.restore()
            trace.finished = True
            if isinstance(error, CompileError) or "TracedArray" not in str(error):
                raise
            raise CompileError(f"md.compile cannot trace this step: {error}. The usual cause: reading a "
                               "tensor's value on the host (.item(), .numpy(), print, an if on a tensor) inside "
                               "the step: return the tensor and read it after the call; or arrays kept outside "
                               "the step, in a list or an attribute, mixed into it") from error
        hook.restore()
        trace.finished = True
        # The plan of what a replay returns: ("slot", s) is computed, ("value", array) was a constant.
        returned_plan = [("slot", a.slot) if isinstance(a, TracedArray) else ("value", a) for a in returned]
        outputs = _rebuild(template, [a.value if isinstance(a, TracedArray) else a for a in returned])
        del result, traced_args, returned
        kept = trace.kept()
        if kept:
            shapes = ", ".join(str(tuple(getattr(t.value, "shape", ()))) for t in kept[:5])
            raise CompileError(f"{len(kept)} arrays made inside the traced step are still held after it returned "
                               f"(shapes {shapes}): state kept between calls outside the optimizer and the "
                               "modules' buffers, such as a list of tensors or an attribute. A replay would not "
                               "update it, so md.compile refuses this step; that state now holds traced arrays: "
                               "recreate it and run the step without md.compile")
        results = ([s for kind, s in returned_plan if kind == "slot"] + [w[2] for w in writes if w[1] != "none"]
                   + [slot for _, slot, _ in observer.outputs])
        inputs = sources + [slot for _, slot, _, _ in hook.adopted] + [slot for _, slot in observer.inputs]
        entry.program = Program(trace.steps, inputs, results)
        entry.returned, entry.template, entry.writes, entry.signature = returned_plan, template, writes, signature
        entry.leaves = [tensor for tensor, _, _, _ in hook.adopted]
        entry.inputs = [source for source, _ in observer.inputs]
        entry.outputs = [source for source, _, _ in observer.outputs]
        # Updated in place (Adam's moments): a replay without a graph changes the state's own array, nothing to write.
        entry.rewrites = [not in_place for _, _, in_place in observer.outputs]
        entry.checks, entry.settings, entry.replays = observer.checks, observer.settings, 0
        self.traces += 1
        if observer.modules and not self._modules:  # from now on, the modules' mode picks the program
            self._modules = observer.modules
            self._entries = {mode_of(self._modules): entry}
        return outputs

    # ---- the replay -------------------------------------------------------------------------------------------
    def _replay(self, entry: _Entry, args: tuple) -> Any:
        check_signature(entry.signature, signature_of(args))
        if entry.replays == 0:  # the first replay: capture a CUDA graph if wanted and possible
            entry.graph = self._capture(entry, args, self.sources(args))  # raises if demanded and not
        entry.replays += 1
        graph = entry.graph is not None
        sources = self.sources(args)  # read again: a capture moves the leaves into the graph's own arrays
        if graph:
            values = iter(entry.graph.run(sources, entry.leaves))
            returned = [entry.graph.copy(next(values)) if kind == "slot" else value
                        for kind, value in entry.returned]
        else:
            values = iter(entry.program.run(*sources))
            returned = [next(values) if kind == "slot" else value for kind, value in entry.returned]
        for tensor, kind, _, xp in entry.writes:
            if kind == "data" or (kind == "same" and graph):
                tensor.data = next(values)
            elif kind == "same":
                next(values)
            elif kind == "grad":
                tensor.grad = Tensor._wrap(next(values), xp, tensor.backend)
            else:
                tensor.grad = None
        for source, rewrite in zip(entry.outputs, entry.rewrites):
            value = next(values)
            if rewrite or graph:
                source.write(value)
        return _rebuild(entry.template, returned)

    def _capture(self, entry: _Entry, args: tuple, sources: list) -> "GraphReplay | None":
        """The graph replay, or None with the reason in ``graph_note`` (an error when it was demanded)."""
        tensors = [t for t in [*entry.leaves, *args] if isinstance(t, Tensor)]
        if has_draws(entry.program) and self.cuda_graph_mode is not False:
            graph, entry.graph_note = None, ("the step draws random numbers on the host (dropout), which a "
                                             "captured graph would freeze: replays run the program instead")
        else:
            graph, entry.graph_note = capture(entry.program, sources, entry.leaves, tensors, self.cuda_graph_mode,
                                              state_sources=entry.inputs)
        if graph is None and self.cuda_graph_mode:
            raise CompileError(f"md.compile(cuda_graph=True) cannot use a CUDA graph: {entry.graph_note}")
        return graph


def _traced(arg: Any, trace: Trace) -> Any:
    """A Tensor argument as the traced step sees it: its array in a new slot."""
    if not isinstance(arg, Tensor):
        return arg
    return Tensor._wrap(trace.wrap(arg.data), trace.namespace(arg.xp), arg.backend)


def _writes(hook: _Adopt) -> list[tuple[Tensor, str, int | None, Any]]:
    """What a replay must write into each adopted tensor: (tensor, "data" | "same" | "grad" | "none", slot, xp)."""
    read = {id(tensor) for tensor, _, _, _ in hook.adopted}
    writes = []
    for tensor, slot, xp, grad_before in hook.adopted:
        if grad_before is not None and id(grad_before) in read:
            raise CompileError(f"the step adds to a gradient left by an earlier call (tensor of shape "
                               f"{tensor.shape}): a replay would not; call optimizer.zero_grad() (or set "
                               "p.grad = None) inside the step")
        data = tensor.data
        if not isinstance(data, TracedArray):
            raise CompileError(f"the step replaced the array of a tensor of shape {tensor.shape} by one made "
                               "outside the trace; update parameters with minidl ops or an optimizer")
        if data.slot != slot:  # "same": updated in place (SGD, Adam), so a plain replay changes the array it reads
            writes.append((tensor, "same" if data.value is hook.original[slot] else "data", data.slot, xp))
        grad = tensor.grad
        if grad is None:
            writes.append((tensor, "none", None, xp))
        elif isinstance(grad.data, TracedArray):
            writes.append((tensor, "grad", grad.data.slot, xp))
        elif grad is not grad_before:
            raise CompileError(f"the step set the gradient of a tensor of shape {tensor.shape} to one made "
                               "outside the trace; md.compile cannot replay that")
    return writes


def _template(result: Any) -> tuple[Any, list]:
    """The return value with each Tensor replaced by an `_Out`, and the Tensors' arrays in order."""
    arrays: list = []

    def walk(value: Any) -> Any:
        if isinstance(value, Tensor):
            arrays.append(value.data)
            return _Out(len(arrays) - 1, real_namespace(value.xp), value.backend)
        if value is None:
            return None
        if isinstance(value, (tuple, list)):
            return type(value)(walk(item) for item in value)
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        raise CompileError(f"a compiled step must return Tensors (or tuples, lists or dicts of them, or None), "
                           f"got a {type(value).__name__}: a Python value computed inside the step would be "
                           "frozen at the trace. Return the tensor, and call .item() on what the step returns")

    return walk(result), arrays


def _rebuild(template: Any, arrays: list) -> Any:
    if isinstance(template, _Out):
        return Tensor._wrap(arrays[template.index], template.xp, template.backend)
    if isinstance(template, (tuple, list)):
        return type(template)(_rebuild(item, arrays) for item in template)
    if isinstance(template, dict):
        return {key: _rebuild(item, arrays) for key, item in template.items()}
    return template


def compile(function: Callable[..., Any], cuda_graph: bool | None = None) -> CompiledStep:  # noqa: A001
    """Trace ``function`` (a training step) once and replay its array operations at later calls.

    ``cuda_graph``: on CuPy, replay as one captured CUDA graph (None: when
    possible, else plain replays, with the reason in ``step.graph_note``;
    True: raise `CompileError` if not possible; False: never).

    >>> import minidl as md, minidl.nn.functional as F
    >>> w = md.tensor([[0.5, -0.5]], requires_grad=True)
    >>> def step(x, y):
    ...     w.grad = None
    ...     loss = F.mse_loss(x @ w.T, y)
    ...     loss.backward()
    ...     with md.no_grad():
    ...         w.data = w.data - 0.05 * w.grad.data
    ...     return loss
    >>> compiled = md.compile(step)
    >>> x, y = md.tensor([[1.0, 2.0]]), md.tensor([[1.0]])
    >>> losses = [round(compiled(x, y).item(), 4) for _ in range(4)]  # eager, traced, replayed, replayed
    >>> losses
    [2.25, 0.5625, 0.1406, 0.0352]
    >>> print(compiled.source.splitlines()[0])
    def replay(s0, s1, s2):
    """
    return CompiledStep(function, cuda_graph)
