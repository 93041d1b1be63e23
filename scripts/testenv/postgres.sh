#!/usr/bin/env bash
# Makes the test suite's PostgreSQL reachable at 127.0.0.1:5432 (role kimhub_test, password kimhub_test):
# installs Debian's postgresql package when it is missing, starts the cluster, creates the role.
# Does nothing when KIMHUB_TEST_DATABASE_URL points the suite at a server of your own.
set -euo pipefail

if [ -n "${KIMHUB_TEST_DATABASE_URL:-}" ]; then
  echo "postgres: using KIMHUB_TEST_DATABASE_URL"; exit 0
fi
ROLE=kimhub_test
reachable() {
  PGPASSWORD=$ROLE PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -p 5432 -U $ROLE -d postgres -Atqc 'select 1' >/dev/null 2>&1
}
if command -v psql >/dev/null && reachable; then
  echo "postgres: 127.0.0.1:5432 answers as $ROLE"; exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "postgres: not reachable as $ROLE at 127.0.0.1:5432, and only root may install or start it here." >&2
  echo "  Run this script as root, or set KIMHUB_TEST_DATABASE_URL to a server of yours." >&2
  exit 1
fi
if ! command -v pg_ctlcluster >/dev/null; then
  echo "postgres: installing Debian's postgresql package"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
if [ -z "$(ls /etc/postgresql/"$version" 2>/dev/null)" ]; then
  pg_createcluster "$version" main
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 1 30); do
  runuser -u postgres -- psql -Atqc 'select 1' >/dev/null 2>&1 && break
  sleep 1
done
# A superuser: the tests create and drop a database per run and switch to the app role.
runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qc "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$ROLE';
  ELSE
    ALTER ROLE $ROLE LOGIN SUPERUSER PASSWORD '$ROLE';
  END IF;
END \$\$;"
reachable || { echo "postgres: started, but $ROLE cannot connect over 127.0.0.1:5432 (pg_hba.conf?)" >&2; exit 1; }
echo "postgres $version: 127.0.0.1:5432 answers as $ROLE"
