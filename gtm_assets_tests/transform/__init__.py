"""The dbt models on another engine (Spark parity)."""
