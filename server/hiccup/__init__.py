"""Hiccup: recognise Claude Code backend failures and say what to do about them, minute by minute."""

__version__ = "0.1.0"
