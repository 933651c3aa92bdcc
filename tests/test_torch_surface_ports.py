"""A PyTorch tutorial program runs on minidl with its import line changed and nothing else.

The original is kept unchanged under tests/ports/; the test applies the one
edit and runs it. (The tutorial's autograd versions also need in-place
``a -= lr * a.grad`` on leaves, and its nn versions nn.MSELoss and RMSprop:
they are ported where those land.)
"""

import contextlib
import io
from pathlib import Path

PORTS = Path(__file__).resolve().parent / "ports"

EDITS = {"import torch\n": "import minidl as torch\n"}


def ported_source(name: str) -> tuple[str, int]:
    """The original program with :data:`EDITS` applied, and how many lines changed."""
    source = (PORTS / name).read_text()
    changed = 0
    for old, new in EDITS.items():
        changed += source.count(old)
        source = source.replace(old, new)
    return source, changed


def test_polynomial_fit_with_tensors_ports_by_changing_the_import_only():
    source, changed = ported_source("polynomial_tensors_torch.py")
    assert changed == 1
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(source, "polynomial_tensors_minidl.py", "exec"), {"__name__": "__main__"})
    lines = output.getvalue().splitlines()
    first_loss, last_loss = float(lines[0].split()[1]), float(lines[-2].split()[1])
    assert last_loss < 20 < first_loss  # the tutorial's fit ends near 9-10 with PyTorch
    assert lines[-1].startswith("Result: y = ")
