"""Storage: SQLAlchemy models, the database and its sessions, migrations, numbering and search."""
