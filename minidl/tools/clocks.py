"""The profiler's two clocks: the host's, and the GPU's own (CUDA events).

On the CPU an op is finished when its call returns, so one clock,
``time.perf_counter`` around the call, gives its time: the device time *is*
the host time. On a GPU the call only queues kernels and returns; the work
happens later, on the device. Two honest ways to time it:

- wait for the device before and after every op (``synchronize``): true, but
  each wait empties the queue, so the host can no longer run ahead of the GPU,
  and at small shapes the profiled step gets much slower (25% on an H100);
- ask the GPU itself: record a CUDA *event* in the stream before the op and
  another after it. Recording is one call into the CUDA driver and waits for
  nothing; the GPU stamps each event with its own clock when it reaches it.
  After the profiled block, one wait, then ``cupy.cuda.get_elapsed_time``
  reads each pair (milliseconds, resolution about 0.5 us).

`CudaEventClock` is the second way. What a pair measures is the span of the
stream between the two stamps: the op's kernels, plus any moment the GPU sat
idle waiting for the host to queue them (at launch-bound shapes that gap is
most of it). The host's own time per op is kept beside it, by the profiler.

A clock (`Clock`) has four methods: ``start()`` returns a mark taken before
an op, ``stop(mark, host_seconds)`` a span once it has returned, ``wait()``
waits until every span can be read, and ``seconds(span)`` reads one.
``label`` says in the profiler's table which clock the device column used.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """What the profiler asks of a clock (`HostClock`, `CudaEventClock`)."""

    label: str       # the clock's name in the profiler's table
    deferred: bool   # True: a span can be read only after ``wait()``

    def start(self) -> Any: ...

    def stop(self, mark: Any, host_seconds: float) -> Any: ...

    def wait(self) -> None: ...

    def seconds(self, span: Any) -> float: ...


class HostClock:
    """Device time = host time: for backends whose ops are done when their call returns (or not waited for).

    >>> clock = HostClock("perf_counter")
    >>> clock.seconds(clock.stop(clock.start(), 0.25))
    0.25
    """

    deferred = False  # a span is the op's seconds at once

    def __init__(self, label: str) -> None:
        self.label = label

    def start(self) -> None:
        return None

    def stop(self, mark: None, host_seconds: float) -> float:
        return host_seconds

    def wait(self) -> None:
        return None

    def seconds(self, span: float) -> float:
        return span


class CudaEventClock:
    """Device time from pairs of CUDA events in the current stream: no wait per op, one to read them all.

    ``event_class``, ``elapsed_ms`` and ``synchronize`` default to CuPy's
    (``cupy.cuda.Event``, ``cupy.cuda.get_elapsed_time`` and a wait for the
    current stream); tests pass stand-ins. Events are reused once read, so a
    long profiled loop does not create two new events per op.
    """

    label = "CUDA events (GPU clock)"
    deferred = True  # a span can be read only once the GPU has reached its second event

    def __init__(self, event_class: Callable[[], Any] | None = None,
                 elapsed_ms: Callable[[Any, Any], float] | None = None,
                 synchronize: Callable[[], None] | None = None) -> None:
        if event_class is None or elapsed_ms is None or synchronize is None:
            import cupy

            event_class = event_class or cupy.cuda.Event  # timing enabled: disable_timing=False by default
            elapsed_ms = elapsed_ms or cupy.cuda.get_elapsed_time
            synchronize = synchronize or (lambda: cupy.cuda.get_current_stream().synchronize())
        self._new_event = event_class
        self._elapsed_ms = elapsed_ms
        self._synchronize = synchronize
        self._free: list[Any] = []  # events read already, ready to be recorded again

    def _recorded(self) -> Any:
        event = self._free.pop() if self._free else self._new_event()
        event.record()  # on the current stream; the host does not wait
        return event

    def start(self) -> Any:
        return self._recorded()

    def stop(self, mark: Any, host_seconds: float) -> tuple[Any, Any]:
        return mark, self._recorded()

    def wait(self) -> None:
        self._synchronize()

    def seconds(self, span: tuple[Any, Any]) -> float:
        start, end = span
        elapsed = self._elapsed_ms(start, end) / 1e3
        self._free += span
        return elapsed
