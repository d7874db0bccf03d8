#!/bin/sh
# Creates the Temporal server's two PostgreSQL databases when missing and brings both schemas up
# to the server release's version. Every step is a no-op when already done, so this runs on every
# start: as compose's `temporal-schema` job (temporalio/admin-tools) and from `npm run cluster`.
# The SQL tool reads SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD from the environment.
set -eu
: "${SQL_HOST:?SQL_HOST must name the PostgreSQL host}"
: "${SQL_USER:?SQL_USER must name the PostgreSQL user}"
tool="${SQL_TOOL:-temporal-sql-tool}"
schema="${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"

prepare() {
  database="$1"
  echo "temporal schema: $database (${2})"
  "$tool" --db "$database" create
  "$tool" --db "$database" setup-schema -v 0.0
  "$tool" --db "$database" update-schema -d "$schema/$2/versioned"
}

prepare "${DBNAME:-temporal}" temporal
prepare "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
echo "temporal schema: up to date"
