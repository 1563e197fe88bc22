"""Alembic environment: runs on the connection that dashboard.db.upgrade hands over."""

from alembic import context

from dashboard.db import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic` command line: build an engine from the environment
    from dashboard.config import Settings
    from dashboard.db import make_engine

    engine = make_engine(Settings.from_env().database_url)
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
