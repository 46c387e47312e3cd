"""The capture app: the form's state, its widgets and the Voilà server schools open.

May import: `riskkit.model`, `riskkit.figures`, `riskkit.notebooks`, `riskkit.reports`, `riskkit.sheets`.
"""

from typing import Any

__all__ = ["capture_form"]


def __getattr__(name: str) -> Any:
    """`riskkit.capture.capture_form`, imported on first use (widgets and plotly.js are heavy for the CLI)."""
    if name == "capture_form":
        from .form import capture_form

        return capture_form
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
