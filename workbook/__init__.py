"""Tooling for the FastAPI workbook: lessons, checkpoints, grading and the `workbook` CLI."""
