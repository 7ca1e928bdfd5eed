"""dbt-duckdb plugin that prepares dbt's DuckDB connections exactly like the Dagster resource.

The HMAC key reaches DuckDB as session variables set here, so compiled SQL, dbt's ``target/``
artifacts and its logs only ever contain ``pii_hmac(column)``, never the key or its pads.
"""

from dbt.adapters.duckdb.plugins import BasePlugin

from gtm_assets.warehouse.resource import prepare_connection


class Plugin(BasePlugin):
    def configure_connection(self, conn):
        prepare_connection(conn)

    def configure_cursor(self, cursor):
        prepare_connection(cursor)
