"""dbt plumbing: the dbt project and its manifest, rendering, column lineage, the dbt-duckdb plugin and the Spark engine."""
