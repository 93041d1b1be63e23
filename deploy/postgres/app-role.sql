-- The role the hub services connect as in production (the migration role owns the tables).
-- On the transfer log and its Merkle tree the app may only INSERT and SELECT: UPDATE, DELETE and
-- TRUNCATE are refused by the grants, and additionally by the append-only triggers (migrations).
-- Every other table the migrations create is the services' working data: read and written.
-- Apply after every `kimhub migrate`, as the owner:  psql -d kimhub -f deploy/postgres/app-role.sql
-- then give the role its password:  psql -d kimhub -f deploy/postgres/app-role-login.sql
-- tests/integration/test_app_role_grants.py fails when a migration adds a table that is not here.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kimhub_app') THEN
        CREATE ROLE kimhub_app LOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO kimhub_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    consents, consent_versions, transfers, inbox_items, outbox, processed_messages, log_head,
    dead_letters, checklist_versions, prechecks, documents, person_keys, transfer_documents,
    revocation_notices, office_notices,
    notification_settings, notifications,
    cases, case_persons, restrictions
    TO kimhub_app;
REVOKE ALL ON transfer_log, merkle_nodes, checkpoints, checkpoint_cosignatures FROM kimhub_app;
GRANT SELECT, INSERT ON transfer_log, merkle_nodes, checkpoints, checkpoint_cosignatures TO kimhub_app;
GRANT SELECT ON alembic_version TO kimhub_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO kimhub_app;
