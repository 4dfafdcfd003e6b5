#!/bin/sh
# Run once by the postgres image when its data folder is empty (/docker-entrypoint-initdb.d/): the server
# already has POSTGRES_DB (MLflow's tables); the workbench gets its own database (progress, records, roster),
# so the two Alembic histories never meet in one `alembic_version` table.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "CREATE DATABASE workbench OWNER \"$POSTGRES_USER\";"
