"""Instructions of md.compile's program for the MLP Adam step, and how many stay in a CUDA graph's device part.

Run from the project root: python docs/measurements/cpu-2026-12-04/host-scalars/count.py
On the CPU, with the test suite's stand-in graph in place of CuPy's capture (the split does not depend on it).
"""

import importlib
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[4]
sys.path[:0] = [str(root / "benchmarks"), str(root / "tests"), str(root)]
from test_compile import _StandInGemm, _StandInGraph  # noqa: E402

graph_replay = importlib.import_module("minidl.compile.graph_replay")
graph_replay.supports_graphs = lambda name: True
graph_replay.CapturedGraph, graph_replay.GraphGemm = _StandInGraph, _StandInGemm
import mlp_adam_impls  # noqa: E402

for batchnorm in (False, True):
    md, step, x, y, sync, model = mlp_adam_impls._adam_step((784, 128, 128, 10), 64, "cpu", batchnorm)
    compiled = md.compile(step, cuda_graph=True)
    for _ in range(3):
        compiled(x, y)
    parts = compiled._entry.graph.parts
    print(f"784-128-128-10/64 Adam{' + BatchNorm1d' if batchnorm else ''}: program {compiled.program.instruction_count} "
          f"instructions; device part {parts.device.instruction_count}, host part {parts.host.instruction_count}, "
          f"{len(parts.fed)} values fed to the device")
