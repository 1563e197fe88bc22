"""Paraguay health performance dashboard (MSPBS): indicator store, pages and PDF snapshots."""

__version__ = "0.1.0"
