"""Settings from the environment: the server's limits and timeouts, with safe defaults."""

from __future__ import annotations

import dataclasses

from dashboard.config import Settings


def test_config_defaults_for_limits_and_timeouts():
    s = Settings.from_env({})
    assert s.statement_timeout_s == 15
    assert s.max_body_bytes == 1_000_000
    assert s.internal_url is None
    assert s.pdf_concurrency == 1 and s.pdf_queue >= 0 and s.pdf_queue_timeout_s > 0
    assert s.debug is False


def test_config_reads_every_new_variable():
    s = Settings.from_env(
        {
            "DASHBOARD_STATEMENT_TIMEOUT": "2.5",
            "DASHBOARD_POOL_TIMEOUT": "3",
            "DASHBOARD_SQLITE_BUSY_TIMEOUT": "4",
            "DASHBOARD_MAX_BODY": "2048",
            "DASHBOARD_INTERNAL_URL": "http://10.0.0.5:8000/",
            "DASHBOARD_PDF_CONCURRENCY": "0",
            "DASHBOARD_PDF_QUEUE": "5",
            "DASHBOARD_PDF_QUEUE_TIMEOUT": "9",
            "DASHBOARD_DEBUG": "1",
        }
    )
    assert (s.statement_timeout_s, s.pool_timeout_s, s.sqlite_busy_timeout_s) == (2.5, 3, 4)
    assert s.max_body_bytes == 2048
    assert s.internal_url == "http://10.0.0.5:8000"
    assert s.pdf_concurrency == 1  # never zero: the PDF button would wait forever
    assert (s.pdf_queue, s.pdf_queue_timeout_s, s.debug) == (5, 9, True)


def test_config_has_no_unused_extra_field():
    assert "extra" not in {f.name for f in dataclasses.fields(Settings)}
