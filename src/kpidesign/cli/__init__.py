"""The command line: click commands that only parse options, call the API, and render."""

from .main import main

__all__ = ["main"]
