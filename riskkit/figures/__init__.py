"""Pieces shared by reports and the capture form: the risk-matrix figure and HTML built by construction.

May import: `riskkit.model`.
"""

from typing import Any

__all__ = ["risk_matrix_figure"]


def __getattr__(name: str) -> Any:
    """`riskkit.figures.risk_matrix_figure`, imported on first use (plotly is heavy for the CLI)."""
    if name == "risk_matrix_figure":
        from .plots import risk_matrix_figure

        return risk_matrix_figure
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
