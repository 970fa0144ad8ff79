"""Alembic environment: bbcs runs migrations itself, on a connection it passes in."""

from alembic import context

from desktop_app.storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise SystemExit("bbcs migrations run from the application (Database.migrate), not the CLI")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """The FTS5 search index is made by hand in SQL, not from the models: leave it alone."""
    return not (type_ == "table" and name is not None and name.startswith("case_search"))


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_name=include_name,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
