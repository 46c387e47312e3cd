"""Pieces shared by reports and the capture form: the risk-matrix figure and HTML built by construction.

May import: `riskkit.model`.
"""
