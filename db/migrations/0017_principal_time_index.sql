-- The detail view's related entries of the same actor (principal = ? AND ts BETWEEN …) could seek
-- only the principal in (principal, action, ts), and read every entry that actor ever made to keep
-- the window's: a SCIM token or an ingest service account has millions. No rule asks by principal
-- and action (scim-bulk-removal has its own index).
DROP INDEX `audit_log_principal_action_ts`;--> statement-breakpoint
CREATE INDEX `audit_log_principal_ts` ON `audit_log` (`principal`,`ts`) WHERE "audit_log"."principal" IS NOT NULL AND lower("audit_log"."principal") <> "audit_log"."subject";