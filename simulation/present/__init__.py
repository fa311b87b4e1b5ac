"""Presentation: figures for people, the presenter pack (HTML report) and the calibration report.

May import: every layer below (model, policy, research, analysis). Not cli.
"""
