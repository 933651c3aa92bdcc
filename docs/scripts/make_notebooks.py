"""Each chapter of the story as a Jupyter notebook, generated from its page with jupytext.

    python docs/scripts/make_notebooks.py                 # writes docs/notebooks/<page>.ipynb (committed)
    python docs/scripts/make_notebooks.py --check         # exit 1 if a committed notebook is out of date
    python docs/scripts/make_notebooks.py --execute       # also run each one (nbclient), as CI does

Needs the ``notebooks`` extra: ``pip install '.[notebooks]'`` (jupytext, nbclient, ipykernel).

The page's executed blocks (```python exec="1" ...) become code cells, in order; everything else,
illustrative code included, stays text.  Links to other chapters point to their notebooks;
figures to ``../figures``.  The first cell installs minidl from the repository when it is missing
(on Colab): it clones the repository named by ``$MINIDL_REPO_URL`` (mkdocs.yml's ``repo_url``) and installs it, so the
files the pages read (measurements, figures' data) and the exercises are there too.

The notebooks are committed, without outputs, because Colab opens notebooks from GitHub only;
``tests/test_notebooks.py`` checks they are what this script writes today.  Each page ends with
a link to download its notebook, and what :func:`links` renders at build time (a hidden
markdown-exec block): the Colab link once ``$MINIDL_REPO_URL`` names a GitHub repository and the
committed notebooks clone it, a plain note otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
OUT = DOCS / "notebooks"
PAGES = ["why", "tensors", "from-scratch", "autograd", "layers", "nn", "training", "conv", "gpu", "gemm",
         "performance", "static-graphs"]
BRANCH = "main"
CELL_TIMEOUT_S = 300
EXEC_FENCE = re.compile(r'^```python exec="1"[^\n]*$', re.M)


def repository() -> str | None:
    """The repository's URL: ``$MINIDL_REPO_URL``, which mkdocs.yml's ``repo_url`` reads too (None while unset)."""
    url = os.environ.get("MINIDL_REPO_URL", "").strip()
    return url.rstrip("/") or None


def colab_url(page: str) -> str | None:
    repo = repository()
    if not repo or "github.com/" not in repo:
        return None
    return f"https://colab.research.google.com/github/{repo.split('github.com/', 1)[1]}/blob/{BRANCH}/docs/notebooks/{page}.ipynb"


def baked_repository(page: str) -> str | None:
    """The repository URL written into the committed notebook's setup cell (None if it was made without one)."""
    path = OUT / f"{page}.ipynb"
    found = re.search(r"REPOSITORY = '([^'\\]+)'", path.read_text()) if path.exists() else None
    return found.group(1) if found else None


def links(page: str) -> str:
    """What a page says under its download link: the Colab link once it can work, a plain note otherwise.

    Colab needs a GitHub address (``$MINIDL_REPO_URL``, or mkdocs.yml's ``repo_url``, which the site's
    hook exports) and a committed notebook whose first cell clones that address.
    """
    repo, url = repository(), colab_url(page)
    if url and baked_repository(page) == repo:
        return (f"Its first cell clones {repo} and installs minidl where it is missing: "
                f"[open {page}.ipynb in Colab]({url}) (Runtime > Change runtime type > GPU for the GPU chapters).")
    why = ("this site was built without the repository's GitHub address (`MINIDL_REPO_URL`)" if not url else
           "the committed notebooks were made without the repository's address; "
           "`MINIDL_REPO_URL=... python docs/scripts/make_notebooks.py` remakes them")
    return (f"It needs minidl installed: in a clone of the repository, `pip install .` (and Jupyter), then open "
            f"`docs/notebooks/{page}.ipynb` in Jupyter. There is no Colab link here: {why}.")


SETUP = '''\
# Setup: on Colab (or any machine without minidl), clone the repository and install it.
import importlib.util, os, subprocess, sys

REPOSITORY = {repo!r}
if importlib.util.find_spec("minidl") is None:
    if REPOSITORY is None:
        raise RuntimeError("minidl is not installed, and this notebook was built without the repository's URL "
                           "($MINIDL_REPO_URL when the notebooks were made): clone minidl and `pip install .` first")
    subprocess.check_call(["git", "clone", "-q", "--depth", "1", REPOSITORY, "minidl"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "./minidl[numba]"])
    os.chdir("minidl")
elif os.path.isdir("minidl/docs"):
    os.chdir("minidl")
# The pages read some files relative to the repository's root (docs/measurements, docs/figures):
# from docs/notebooks/, where Jupyter starts a local copy, that is two levels up.
if not os.path.isdir("docs") and os.path.isdir("../../docs"):
    os.chdir("../..")
'''


def page_text(page: str) -> str:
    """The page's markdown, made ready for jupytext: the link block dropped, links and figures retargeted."""
    text = (DOCS / f"{page}.md").read_text()
    # A block indented inside an admonition or a tab still runs, as a top-level cell:
    text = re.sub(r'^( +)(```python exec="1"[^\n]*\n.*?^\1```)',
                  lambda m: "\n" + textwrap.dedent(m.group(1) + m.group(2)) + "\n", text, flags=re.M | re.S)
    text = re.sub(r'```python exec="1"[^\n]*\n[^`]*make_notebooks[^`]*```\n?', "", text)   # the links block
    text = re.sub(r"\*\*Run this chapter as a notebook:\*\*.*?\n\n", "", text, flags=re.S)   # and its line
    text = re.sub(r"\]\(([\w-]+)\.md(#[^)]*)?\)",
                  lambda m: f"]({m.group(1)}.ipynb{m.group(2) or ''})" if m.group(1) in PAGES
                  else f"](../{m.group(1)}.md{m.group(2) or ''})", text)
    return re.sub(r"\]\((figures|img)/", r"](../\1/", text)


def notebook(page: str):
    import jupytext
    import nbformat

    nb = jupytext.reads(page_text(page), fmt="md")
    cells = [nbformat.v4.new_code_cell(SETUP.format(repo=repository()))]
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("exec") == "1":
            cells.append(nbformat.v4.new_code_cell(cell.source))
            continue
        if cell.cell_type == "code":   # illustrative code in the page: text in the notebook too
            source = cell.source
            language = "python"
            if source.startswith("%%"):
                language, source = source[2:].split("\n", 1)[0].strip(), source.split("\n", 1)[1]
            source = f"```{language}\n{source}\n```"
        else:
            source = cell.source
        if cells[-1].cell_type == "markdown":
            cells[-1].source += "\n\n" + source
        else:
            cells.append(nbformat.v4.new_markdown_cell(source))
    result = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "accelerator": "GPU" if page in ("gpu", "gemm") else "None",
    })
    for index, cell in enumerate(result.cells):       # stable ids: the same page gives the same file
        cell.id = f"{page}-{index}"
    return result


def render(page: str) -> str:
    import nbformat

    return nbformat.writes(notebook(page)) + "\n"


def execute(text: str) -> None:
    import nbclient
    import nbformat

    nb = nbformat.reads(text, as_version=4)
    nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed notebooks, write nothing")
    parser.add_argument("--execute", action="store_true", help="run every notebook (in memory; outputs are not kept)")
    parser.add_argument("--pages", nargs="*", default=PAGES)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    stale = []
    for page in args.pages:
        path = OUT / f"{page}.ipynb"
        text = render(page)
        if not args.check:
            path.write_text(text)
        elif not path.is_file() or path.read_text() != text:
            stale.append(page)
        if args.execute:
            start = time.perf_counter()
            execute(text)
            print(f"{page}: executed in {time.perf_counter() - start:.1f} s", flush=True)
    if stale:
        print(f"out of date: {stale}; run `python docs/scripts/make_notebooks.py` and commit docs/notebooks/")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
