"""The autograd pictures on the site match what md.viz draws today.

``docs/scripts/autograd_graphs.py`` writes each figure's Graphviz source next
to its SVG; rebuilding the source here needs no Graphviz, so CI catches a
picture that no longer shows what minidl does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import load_script

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"
SCRIPT = FIGURES.parent / "scripts" / "autograd_graphs.py"


def _script():
    return load_script(SCRIPT)


@pytest.mark.parametrize("name", sorted(_script().GRAPHS))
def test_committed_graph_figure_is_what_minidl_draws_today(name):
    committed = (FIGURES / f"graph-{name}.dot").read_text()
    assert _script().dot_source(name) == committed, (
        f"docs/figures/graph-{name}.svg is out of date: run `python docs/scripts/autograd_graphs.py` "
        "(needs Graphviz) and commit the new figures"
    )


@pytest.mark.parametrize("name", sorted(_script().GRAPHS))
def test_each_graph_figure_has_its_svg(name):
    svg = (FIGURES / f"graph-{name}.svg").read_text()
    assert "<svg" in svg and "</svg>" in svg
