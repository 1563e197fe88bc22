"""Names vulture (make check) reports as unused that are used: by a framework, by the tests as
public API, or as documentation a reader needs. Keep it short; delete code rather than list it."""

from dashboard import aggregate, boundaries, catalog, maps
from dashboard.importers import common, metadata
from dashboard.web import worker

aggregate.status_of  # the status rule for one value, public API (tests/test_aggregate.py)
boundaries.Boundaries.bounds  # read by callers that zoom a map to the units
catalog.HOSPITAL_TYPES  # the hospital facility types, public API (tests/test_demo.py)
catalog.Catalog.level_units  # every unit of a level, public API (tests, benchmarks)
common.REASONS  # every import problem's key (tests/test_i18n.py checks each has a message)
maps.TOPOJSON_FILE  # the offline world topology's name (tests/test_maps.py checks the asset)
metadata.ORG_UNIT_OPTIONAL  # documents each metadata file's optional columns
metadata.INDICATOR_OPTIONAL
metadata.TARGET_OPTIONAL
_.validation_layout  # read by Dash
_.freeze_panes  # read by openpyxl
_.max_content_length  # read by Flask (the upload's own body cap)
_.startElement  # called by the SAX parser (ADX import)
_.endElement  # called by the SAX parser (ADX import)
_.value_change_span  # a table written by SQL text (writes.write_spans); declared for the schema
worker.HealthFirstWorker  # gunicorn's worker_class (gunicorn.conf.py)
_.nr_conns  # gunicorn's gthread connection count, kept right when a check is answered
_.immutable  # Werkzeug cache-control attribute (app._serve_bytes)
