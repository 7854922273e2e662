"""The task tracker app."""
