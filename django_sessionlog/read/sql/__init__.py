"""SQL over logs with DuckDB, and the log as Parquet.

``columns`` types the row's columns; ``duckdb_sql`` opens DuckDB and reads
logs with those types; ``staging`` checks local logs line by line before
DuckDB reads them; ``export`` writes Parquet partitioned by day.
"""
