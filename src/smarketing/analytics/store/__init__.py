"""The history store: the database's history and records mirrored into month-partitioned Parquet (the lake),
caught up incrementally and read in place by DuckDB (and, by URL, by Spark).

`layout` says what the lake holds and where, `extract` reads rows out of SQLite and PostgreSQL as Arrow,
`sync` catches the lake up exactly (its docstring holds the design), `reader` turns the lake into the analytics
datasets for DuckDB, `status` compares the lake with the database, and `tasks` catches up after writes.
"""
