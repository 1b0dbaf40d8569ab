#!/bin/sh
# Creates or upgrades Temporal's PostgreSQL schemas (persistence and
# visibility) with temporal-sql-tool from the admin-tools image; run once
# before the server by the temporal-schema service of docker-compose.yml, and
# again after every server upgrade (update-schema only applies what is new).
# The password comes from the postgres-password secret, never from the
# environment of the compose file.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
DB_PORT="${DB_PORT:-5432}"
SQL_PASSWORD="$(cat "${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE is required}")"
export SQL_PASSWORD

tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"; }

until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$DB_PORT"; sleep 1; done

# The postgres image already created the database named after the user
# ("temporal"); the visibility one exists from the second run on.
tool --db temporal_visibility create 2>/dev/null || echo "database temporal_visibility exists"
for db in temporal:temporal temporal_visibility:visibility; do
	name="${db%%:*}" dir="${db##*:}"
	tool --db "$name" setup-schema -v 0.0
	tool --db "$name" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
done
echo "schemas up to date"
