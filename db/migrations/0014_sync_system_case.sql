DROP INDEX `audit_log_sync_failure_ts`;--> statement-breakpoint
DROP INDEX `audit_log_orphan_ts`;--> statement-breakpoint
DROP INDEX `audit_log_recon_false_ts`;--> statement-breakpoint
CREATE INDEX `audit_log_sync_failure_ts` ON `audit_log` (lower("target_system"),`ts`,`target_system`) WHERE "audit_log"."action" = 'SYNCHRONIZATION' AND "audit_log"."outcome" = 'FAILURE';--> statement-breakpoint
CREATE INDEX `audit_log_orphan_ts` ON `audit_log` (lower("target_system"),`ts`,`target_system`) WHERE "audit_log"."action" = 'SYNCHRONIZATION_ORPHAN';--> statement-breakpoint
CREATE INDEX `audit_log_recon_false_ts` ON `audit_log` (lower("target_system"),`ts`,`subject`,`target_system`) WHERE "audit_log"."action" = 'RECONCILIATION_RECORD_FALSE';