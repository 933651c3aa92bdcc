"""mkdocs hooks (named in mkdocs.yml): the repository link, the pages' edit links, and search text without LaTeX.

The repository's public address is not written into the sources: whoever publishes the site
sets ``MINIDL_REPO_URL`` (for example ``https://github.com/<owner>/minidl``), and
``MINIDL_EDIT_URI`` if the default branch is not ``main``.  Without ``MINIDL_REPO_URL`` the site
shows neither a repository link nor edit buttons, rather than a link that leads nowhere.  A
``repo_url`` written into mkdocs.yml is exported as ``MINIDL_REPO_URL`` for the pages' code blocks
(the notebooks' Colab links, docs/scripts/make_notebooks.py).

The search index is made from the pages' HTML, where formulas are still LaTeX source for KaTeX to
render in the browser (``\\(\\partial L / \\partial\\,\\text{output}\\)``); search results would show that
source.  After the build, each formula in the index is replaced by a plain-text reading of it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path


def on_config(config):
    if config.repo_url:
        os.environ.setdefault("MINIDL_REPO_URL", config.repo_url)
        # mkdocs would guess "edit/master/docs/" for GitHub and GitLab; this repository's branch is main.
        config.edit_uri = os.environ.get("MINIDL_EDIT_URI", "edit/main/docs/")
    else:
        config.edit_uri = None
    return config


# A formula as arithmatex leaves it in the HTML: \( ... \), \[ ... \] or $$ ... $$.
_MATH = re.compile(r"\\\(([^<]+?)\\\)|\\\[([^<]+?)\\\]|\$\$([^<]+?)\$\$")
_SYMBOLS = {"times": "×", "cdot": "·", "approx": "≈", "partial": "∂", "in": "∈", "le": "≤", "leq": "≤",
            "ge": "≥", "geq": "≥", "ll": "≪", "gg": "≫", "sum": "Σ", "infty": "∞", "rightarrow": "→",
            "to": "→", "leftarrow": "←", "langle": "⟨", "rangle": "⟩", "sqrt": "√", "alpha": "α",
            "beta": "β", "top": "T", "lfloor": "⌊", "rfloor": "⌋", "min": "min", "max": "max", "tanh": "tanh"}


def plain_formula(latex: str) -> str:
    """A readable plain-text version of a LaTeX formula, for search snippets (not for display)."""
    text = re.sub(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", latex)
    text = re.sub(r"\\(?:text|mathrm|mathbf|mathbb|operatorname)\s*\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\(?:left|right|big|Big|bigl|bigr)\b", "", text)
    text = re.sub(r"\\[,;:! ]|\\q?quad\b|\\\\|&", " ", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _SYMBOLS.get(m.group(1), m.group(1)), text)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    return re.sub(r"\s+", " ", text).strip()


def clean_search_text(text: str) -> str:
    return _MATH.sub(lambda m: plain_formula(next(g for g in m.groups() if g is not None)), text)


def on_post_build(config):
    index = Path(config.site_dir) / "search" / "search_index.json"
    if not index.exists():
        return
    data = json.loads(index.read_text(encoding="utf-8"))
    for entry in data.get("docs", []):
        for key in ("title", "text"):
            if key in entry:
                entry[key] = clean_search_text(entry[key])
    index.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
