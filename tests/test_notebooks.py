"""The chapters' notebooks (docs/notebooks/, generated from the pages by docs/scripts/make_notebooks.py).

Executing them is CI's job (``make_notebooks.py --check --execute``, about a minute); here: each
story page has its notebook, committed as the script writes it today, and ends with the links to it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import load_script

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _script():
    return load_script(DOCS / "scripts" / "make_notebooks.py")


PAGES = _script().PAGES


@pytest.mark.parametrize("page", PAGES)
def test_each_page_ends_with_the_links_to_its_notebook(page):
    assert f'["links"]("{page}")' in (DOCS / f"{page}.md").read_text()
    assert f"](notebooks/{page}.ipynb)" in (DOCS / f"{page}.md").read_text()


@pytest.mark.parametrize("page", PAGES)
def test_the_committed_notebook_is_what_the_page_gives_today(page):
    pytest.importorskip("jupytext", reason="the notebooks extra: pip install '.[notebooks]'")
    script = _script()
    committed = DOCS / "notebooks" / f"{page}.ipynb"
    assert committed.is_file() and committed.read_text() == script.render(page), (
        f"docs/notebooks/{page}.ipynb is out of date: run `python docs/scripts/make_notebooks.py` and commit it")


def test_a_notebook_runs_the_pages_code_and_shows_the_rest_as_text():
    pytest.importorskip("jupytext", reason="the notebooks extra: pip install '.[notebooks]'")
    nb = _script().notebook("from-scratch")
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert "find_spec(\"minidl\")" in code[0]                         # the setup cell
    assert any("def topological_order" in source for source in code)
    assert not any("make_notebooks" in source for source in code)     # the page's link block is not a cell
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert "MINIDL_EXERCISES=skeletons" in text and "](autograd.ipynb" in text


def test_the_colab_link_appears_only_when_a_github_url_is_set_and_the_notebooks_clone_it(monkeypatch):
    script = _script()
    monkeypatch.delenv("MINIDL_REPO_URL", raising=False)
    assert "colab" not in script.links("why").lower().replace("no colab link", "")
    monkeypatch.setenv("MINIDL_REPO_URL", "https://github.com/someone/minidl")
    monkeypatch.setattr(script, "baked_repository", lambda page: None)            # notebooks made without it
    assert "colab.research.google.com" not in script.links("why")
    monkeypatch.setattr(script, "baked_repository", lambda page: "https://github.com/someone/minidl")
    link = script.links("why")
    assert "https://colab.research.google.com/github/someone/minidl/blob/main/docs/notebooks/why.ipynb" in link
    monkeypatch.setenv("MINIDL_REPO_URL", "https://gitlab.com/someone/minidl")   # Colab opens GitHub only
    monkeypatch.setattr(script, "baked_repository", lambda page: "https://gitlab.com/someone/minidl")
    assert "colab.research.google.com" not in script.links("why")
