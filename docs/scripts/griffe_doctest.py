"""A Griffe extension: show the doctest examples of minidl's docstrings as code.

minidl's docstrings carry runnable examples (``>>> x = md.ones(3)``) without
a section header.  Markdown would read ``>>>`` as a quote, so before
mkdocstrings renders a docstring this extension wraps each run of doctest
lines (the prompts and the output below them, up to a blank line) in a
```` ```pycon ```` fence, and drops doctest directives (``# doctest: +SKIP``), which are
for the test runner, not the reader.  Loaded from ``mkdocs.yml`` (mkdocstrings options).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")


def fence_doctests(text: str) -> str:
    """Wrap every block of ``>>>`` lines (and the output after them) in a pycon code fence.

    >>> print(fence_doctests("Intro.\\n\\n>>> 1 + 1\\n2"))
    Intro.
    <BLANKLINE>
    ```pycon
    >>> 1 + 1
    2
    ```
    """
    out: list[str] = []
    in_block = in_fence = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if not in_fence and not in_block and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            in_block = True
        elif in_block and not stripped:
            out.append(f"{indent}```")
            in_block = False
        out.append(DIRECTIVE.sub("", line) if in_block else line)
    if in_block:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence doctest examples in every docstring Griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
