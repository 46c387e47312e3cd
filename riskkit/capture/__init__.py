"""The capture app: the form's state, its widgets and the Voilà server schools open.

May import: `riskkit.model`, `riskkit.figures`, `riskkit.notebooks`, `riskkit.reports`, `riskkit.sheets`.
"""
