"""Reports: the school report and district overview views, rendering (papermill, nbconvert, Chromium), the batch.

May import: `riskkit.model`, `riskkit.figures`, `riskkit.notebooks`. Heavy libraries are imported inside functions.
"""

from .batch import run_batch
from .render import ReportRenderer, render_school_report

__all__ = ["ReportRenderer", "render_school_report", "run_batch"]
