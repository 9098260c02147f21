"""The reliability suite drives real servers with the end-to-end tests' helpers (`tests/lsp/lsp_support.py`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lsp"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """HICCUP_FUZZ=long runs thousands of examples per test: more than the suite's 120 s per-test timeout."""
    if os.environ.get("HICCUP_FUZZ") == "long":
        for item in items:
            if item.path.is_relative_to(Path(__file__).parent):
                item.add_marker(pytest.mark.timeout(3600))
