"""What auditors use: the lineage graph and its walk, and the patterns of personal data that never leave the raw zone."""
