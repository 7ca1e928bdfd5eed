"""The warehouse: staged swaps, shared reads."""
