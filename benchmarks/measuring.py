"""Two helpers for the small measurement scripts under ``docs/measurements/``: interleaved rounds, and the report.

On a shared machine a timing moves with the load, so the scripts time every variant in each round, in an order
reversed every other round, and keep the median per call; the report starts with the machine line of
`mlp_step.machine_line` (the load average before and after).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable, Iterator

from mlp_step import machine_line


def interleaved_order(names: list[str], rounds: int) -> Iterator[str]:
    """Every name in every round, in the order given and reversed every other round, so that drift in the
    machine's load falls alike on all of them."""
    for round_ in range(rounds):
        yield from (names if round_ % 2 == 0 else names[::-1])


def interleaved_medians(ways: dict[str, Callable[[], object]], rounds: int, calls: int, warmup: int = 0,
                        before_block: Callable[[str], None] | None = None) -> dict[str, float]:
    """Median microseconds per call of each of ``ways`` (name -> function), process CPU time.

    Each round times ``calls`` calls of every way, after ``warmup`` untimed calls and ``before_block(name)``
    (step_ab.py switches a record there); the order of the ways is reversed every other round.
    """
    times: dict[str, list[float]] = {name: [] for name in ways}
    for name in interleaved_order(list(ways), rounds):
        if before_block is not None:
            before_block(name)
        call = ways[name]
        for _ in range(warmup):
            call()
        start = time.process_time()
        for _ in range(calls):
            call()
        times[name].append((time.process_time() - start) / calls * 1e6)
    return {name: statistics.median(values) for name, values in times.items()}


def write_report(out: Path, filename: str, title: str, machine: dict, lines: list[str], **versions: str) -> None:
    """Write ``title`` (dated), the machine line and ``lines`` to ``out/filename``, and print them."""
    text = "\n".join([f"{title}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
                      machine_line(machine, **versions), ""] + lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / filename).write_text(text)
    print(text, end="")
