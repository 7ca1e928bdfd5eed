"""Crashes, overlapping writers, dropped connections, secrets."""
