-- Sets the password of the runtime role kimhub_app from the environment variable
-- APP_DB_PASSWORD, so it is neither in a file nor on a command line (psql 15 or newer):
--   APP_DB_PASSWORD=... psql -v ON_ERROR_STOP=1 -d kimhub -f deploy/postgres/app-role-login.sql
-- Run after app-role.sql, and again whenever the password changes.
\set ON_ERROR_STOP on
\getenv app_password APP_DB_PASSWORD
\if :{?app_password}
    ALTER ROLE kimhub_app WITH LOGIN PASSWORD :'app_password';
\else
    DO $$ BEGIN RAISE EXCEPTION 'APP_DB_PASSWORD is not set'; END $$;
\endif
