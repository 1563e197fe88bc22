"""Every component id, as a constant: a typo fails at import, not silently in the browser."""

URL = "url"
OVERVIEW_TABLE = "overview-table"
OVERVIEW_TITLE = "overview-title"
