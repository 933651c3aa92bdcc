"""``ex``: the implementation of this module's exercise (``EXERCISE``) that MINIDL_EXERCISES chooses."""

from __future__ import annotations

import pytest

from exercises import load


@pytest.fixture
def ex(request):
    return load(request.module.EXERCISE)
