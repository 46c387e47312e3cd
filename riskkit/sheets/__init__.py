"""Spreadsheets: safe reading of CSV/XLSX, the flat table, the questionnaire, import and export.

May import: `riskkit.model`, `riskkit.figures`.
"""
