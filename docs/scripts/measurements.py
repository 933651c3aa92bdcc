"""Render stored benchmark results (docs/measurements/) as the pages' tables, so that prose never copies a number.

Used from the pages' code blocks:  ``import sys; sys.path.insert(0, "docs/scripts"); import measurements``.
"""

from __future__ import annotations

import json
from pathlib import Path

MEASUREMENTS = Path(__file__).resolve().parents[1] / "measurements"


def latest(pattern: str) -> Path:
    """The newest stored file matching ``pattern`` (folders are named by date)."""
    return sorted(MEASUREMENTS.glob(pattern))[-1]


def mlp_step(pattern: str = "cpu-*/mlp_step/mlp_step.json") -> tuple[Path, dict]:
    path = latest(pattern)
    return path, json.loads(path.read_text())


def mlp_step_table(rows: dict[str, str], pattern: str = "cpu-*/mlp_step/mlp_step.json") -> str:
    """A markdown table: one row per implementation (``rows``: name in the JSON -> label), one column
    per shape, each cell the median ratio to the hand-written step (its time in ms for that step)."""
    path, data = mlp_step(pattern)
    env, shapes = data["environment"], data["shapes"].values()
    header = " | ".join(f"{'-'.join(map(str, s['sizes']))}, batch {s['batch']}" for s in shapes)
    lines = [f"| implementation | {header} |", "| --- |" + " ---: |" * len(data["shapes"])]
    for name, label in rows.items():
        cells = []
        for shape in shapes:
            entry = shape["implementations"][name]
            ms = f" ({entry['median_ms']:.2f} ms)" if name == "handwritten" else ""
            cells.append(f"{entry['median_ratio']:.2f}{ms}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    clock = next(iter(shapes))["clock"]
    lines += ["", f"Rendered from `{path.relative_to(MEASUREMENTS.parents[1])}`: {env['cpu_model']}, "
              f"{env['cpus']} cores, Python {env['python']}, NumPy {env['numpy']}, BLAS threads "
              f"{env['blas_env'].get('OPENBLAS_NUM_THREADS', 'as set')}, {clock} clock, load average "
              f"{env['load_average_before'][0]:.1f} at the start."]
    return "\n".join(lines)
