"""PDF snapshots: pages of the running dashboard printed by headless Chromium."""
