"""The documentation site's sources: navigation, API pages, figures and the doctest fencing.

The pages' code blocks are executed by ``mkdocs build --strict`` (markdown-exec);
these tests check what can be checked without building.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"


def _load_script(name: str):
    if name == "griffe_doctest":
        pytest.importorskip("griffe", reason="the docs extra (mkdocstrings) is not installed")
    return load_script(DOCS / "scripts" / f"{name}.py")


def _nav_pages() -> list[str]:
    # The nav entries are "title: page.md" or "- page.md"; a YAML parser is not needed for that.
    nav = MKDOCS_YML.read_text().split("\nnav:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"([\w/.-]+\.md)\s*$", nav, flags=re.MULTILINE)


def _api_targets() -> list[str]:
    return [target for page in (DOCS / "api").glob("*.md")
            for target in re.findall(r"^::: ([\w.]+)", page.read_text(), flags=re.MULTILINE)]


def _public_modules() -> list[str]:
    modules = []
    for path in sorted((ROOT / "minidl").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if any(part.startswith("_") and part != "__init__" for part in parts):
            continue
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_every_page_in_the_navigation_exists():
    pages = _nav_pages()
    assert len(pages) >= 20
    missing = [page for page in pages if not (DOCS / page).is_file()]
    assert not missing, f"mkdocs.yml names pages that do not exist: {missing}"


def test_every_markdown_page_is_in_the_navigation():
    pages = set(_nav_pages())
    orphans = [str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")
               if str(p.relative_to(DOCS)) not in pages and "scripts" not in p.parts and "assets" not in p.parts]
    assert not orphans, f"pages not reachable from the navigation (add them to mkdocs.yml): {orphans}"


def test_every_public_module_has_an_api_entry():
    documented = set(_api_targets())
    missing = [module for module in _public_modules() if module not in documented]
    assert not missing, f"modules missing from docs/api/*.md (add a '::: module' line): {missing}"


def test_every_api_entry_names_an_existing_module():
    known = set(_public_modules())
    unknown = [target for target in _api_targets()
               if target not in known and target.rsplit(".", 1)[0] not in known]
    assert not unknown, f"docs/api/*.md documents modules that do not exist: {unknown}"


def test_every_figure_a_page_shows_exists():
    missing = []
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)", page.read_text()):
            if not target.startswith(("http://", "https://")) and not (page.parent / target).is_file():
                missing.append(f"{page.relative_to(DOCS)} -> {target}")
    assert not missing, f"figures referenced but not found: {missing}"


def test_crossover_data_says_where_each_number_was_measured():
    import json

    stored = sorted((DOCS / "measurements").glob("cpu-*/crossover/crossover.json"))
    assert stored, "docs/scripts/crossover.py stores its measurement under docs/measurements/cpu-<date>/crossover/"
    data = json.loads(stored[-1].read_text())
    assert "cores" in data["cpu_machine"] and "BLAS threads" in data["cpu_machine"]
    assert {"cpu_model", "cpus", "python", "numpy", "blas_env"} <= set(data["machine"])
    source = data["h100_reference"]["source"]
    assert source.startswith("docs/measurements/"), source  # a file in this repository, not someone's notes
    assert (ROOT / source.split(" ", 1)[0]).exists(), source
    for series in data["cpu"].values():
        assert len(series["batch"]) == len(series["numpy_s"]) == len(series["minidl_s"]) > 5


def test_no_page_loads_scripts_or_styles_from_a_cdn():
    # The site must work offline (the browser check runs without network): vendor assets under docs/assets.
    config = MKDOCS_YML.read_text()
    extra = config.split("extra_javascript:", 1)[1]
    assert "http://" not in extra and "https://" not in extra
    assert "font: false" in config  # Material otherwise loads Google Fonts


@pytest.mark.parametrize("text, expected", [
    ("Intro.\n\n>>> 1 + 1\n2", "Intro.\n\n```pycon\n>>> 1 + 1\n2\n```"),
    ("    >>> f(\n    ...     1)\n    3\n\n    After.", "    ```pycon\n    >>> f(\n    ...     1)\n    3\n    ```\n\n    After."),
    ("```python\n>>> already fenced\n```", "```python\n>>> already fenced\n```"),
    ("No examples here.", "No examples here."),
])
def test_doctest_blocks_become_pycon_fences(text, expected):
    assert _load_script("griffe_doctest").fence_doctests(text) == expected


def test_two_doctest_blocks_get_two_fences():
    fenced = _load_script("griffe_doctest").fence_doctests(">>> a = 1\n\nText.\n\n>>> a\n1")
    assert fenced.count("```pycon") == 2 and fenced.count("```\n") + fenced.endswith("```") == 2


def test_doctest_directives_are_hidden_from_the_reader():
    fenced = _load_script("griffe_doctest").fence_doctests('>>> render(x, "g.svg")  # doctest: +SKIP')
    assert "doctest" not in fenced and '>>> render(x, "g.svg")' in fenced


def test_chapter_numbers_agree_between_the_navigation_and_the_pages():
    # "- 5.1 Models with minidl.nn: nn.md" in mkdocs.yml and "# 5.1 Models with minidl.nn" atop nn.md.
    nav = MKDOCS_YML.read_text().split("\nnav:\n", 1)[1].split("\n\n", 1)[0]
    numbered = dict((page, number) for number, page in
                    re.findall(r"^\s*- (\d+(?:\.\d+)*)\.? [^:\n]+: ([\w/.-]+\.md)\s*$", nav, flags=re.MULTILINE))
    for page in _nav_pages():
        title = (DOCS / page).read_text().split("\n", 1)[0]
        number = re.match(r"# (\d+(?:\.\d+)*)\.? ", title)
        assert numbered.get(page) == (number and number.group(1)), \
            f"{page}: mkdocs.yml numbers it {numbered.get(page)!r}, its title is {title!r}"


def test_stored_cpu_step_renders_as_the_pages_table():
    measurements = _load_script("measurements")
    table = measurements.mlp_step_table({"handwritten": "by hand", "minidl-nn": "nn"})
    assert "| by hand | 1.00 (" in table and "| nn | " in table
    assert "docs/measurements/cpu-" in table and "cores" in table


@pytest.mark.parametrize("html, expected", [
    (r"receives \(\partial L / \partial\,\text{output}\) and", "receives ∂ L / ∂ output and"),
    (r"<p>\[ \frac{dy}{dx} = 2x + 1 \]</p>", "<p>(dy)/(dx) = 2x + 1</p>"),
    (r"so $$ OH = \left\lfloor \frac{H}{s} \right\rfloor $$ rows", "so OH = ⌊ (H)/(s) ⌋ rows"),
    ("no formula, a regex r'\\[' in <code>code</code>", "no formula, a regex r'\\[' in <code>code</code>"),
])
def test_search_text_shows_formulas_as_plain_text(html, expected):
    assert _load_script("site_hooks").clean_search_text(html) == expected
