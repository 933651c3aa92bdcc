"""The chapters' diagrams are drawn by code: ``docs/scripts/chapter_figures.py`` still draws each one,
and each is committed under docs/figures/ (rerun the script and commit when a figure changes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import load_script

pytest.importorskip("matplotlib", reason="the figures are drawn with matplotlib (the docs extra)")

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _script():
    return load_script(DOCS / "scripts" / "chapter_figures.py")


def test_the_script_draws_every_figure_and_each_is_committed(tmp_path):
    script = _script()
    script.main(tmp_path)
    for name in script.FIGURES:
        drawn = (tmp_path / name).read_text()
        assert drawn.startswith("<?xml") and "</svg>" in drawn
        committed = DOCS / "figures" / name
        assert committed.is_file(), f"run `python docs/scripts/chapter_figures.py` and commit docs/figures/{name}"
        pages = [p.name for p in DOCS.glob("*.md") if f"figures/{name}" in p.read_text()]
        assert pages, f"docs/figures/{name} is drawn but no chapter shows it"
