"""Dash component trees: one module a page, ids in ids.py."""
