"""The `gtm` command."""
