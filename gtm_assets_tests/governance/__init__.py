"""Governance models: incremental builds, deleted files, match keys."""
