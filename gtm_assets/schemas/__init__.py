"""The documents the product writes for others: their JSON schemas and strict JSON encoding."""
