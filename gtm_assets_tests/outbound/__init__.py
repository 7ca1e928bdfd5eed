"""Calls that leave the machine, against a local HTTP server."""
