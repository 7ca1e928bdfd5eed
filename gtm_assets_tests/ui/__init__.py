"""The front door: dagster-webserver, GraphQL and headless Chromium."""
