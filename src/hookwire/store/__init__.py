"""Storage: the ``Store`` protocol and its SQLite and PostgreSQL backends. Only here is SQL."""
