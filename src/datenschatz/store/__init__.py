"""Version store: dataset content as immutable Parquet files, queried with DuckDB."""
