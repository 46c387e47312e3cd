"""The model: errors, YAML I/O, texts, the method, the catalogue, school assessments, districts and the DSFA parts.

Owns every rule of the assessment; knows nothing of figures, reports, spreadsheets or widgets.
May import: nothing of riskkit outside `riskkit.model`.
"""
