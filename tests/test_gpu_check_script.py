"""benchmarks/gpu_check.sh runs on scarce, lent GPU time: what it names must exist before it gets there."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"


def test_every_file_the_gpu_check_names_exists():
    named = set(re.findall(r"\b((?:tests|benchmarks)/[\w/]+\.py)\b", SCRIPT.read_text()))
    assert named, "no test or benchmark file found in gpu_check.sh"
    missing = sorted(path for path in named if not (ROOT / path).is_file())
    assert not missing, f"gpu_check.sh names files that do not exist: {missing}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_the_gpu_check_is_valid_bash():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
