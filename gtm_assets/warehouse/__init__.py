"""The DuckDB warehouse: the one resource, the staged writer runs, shared reads, SQL quoting and table metadata."""
