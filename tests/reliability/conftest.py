"""The reliability suite drives real servers with the end-to-end tests' helpers (`tests/lsp/lsp_support.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lsp"))
