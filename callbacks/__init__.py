"""Dash callbacks: wiring only, one module a page, each with register(app, deps)."""
