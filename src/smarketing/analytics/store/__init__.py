"""The history store: the database's history and records mirrored into month-partitioned Parquet (the lake),
caught up incrementally and read in place by DuckDB (and, by URL, by Spark).

`layout` says what the lake holds and where, `extract` turns rows of SQLite and PostgreSQL into Parquet through
Arrow, `copier` runs those copies in helper processes, `sync` catches the lake up exactly (its docstring holds
the design), `reader` turns the lake into the analytics datasets for DuckDB, `status` compares the lake with the
database, and `tasks` catches up after writes.
"""
