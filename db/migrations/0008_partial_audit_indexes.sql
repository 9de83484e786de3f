DROP INDEX `audit_log_resource`;--> statement-breakpoint
DROP INDEX `audit_log_principal_action_ts`;--> statement-breakpoint
CREATE INDEX `audit_log_sync_failure_ts` ON `audit_log` (`target_system`,`ts`) WHERE "audit_log"."action" = 'SYNCHRONIZATION' AND "audit_log"."outcome" = 'FAILURE';--> statement-breakpoint
CREATE INDEX `audit_log_orphan_ts` ON `audit_log` (`target_system`,`ts`) WHERE "audit_log"."action" = 'SYNCHRONIZATION_ORPHAN';--> statement-breakpoint
CREATE INDEX `audit_log_recon_false_ts` ON `audit_log` (`target_system`,`ts`,`subject`) WHERE "audit_log"."action" = 'RECONCILIATION_RECORD_FALSE';--> statement-breakpoint
CREATE INDEX `audit_log_resource` ON `audit_log` (`resource_id`) WHERE "audit_log"."resource_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `audit_log_principal_action_ts` ON `audit_log` (`principal`,`action`,`ts`) WHERE "audit_log"."principal" IS NOT NULL AND lower("audit_log"."principal") <> "audit_log"."subject";--> statement-breakpoint
-- login_origins is looked up and filled by its key only: WITHOUT ROWID stores each row once, in its
-- primary-key b-tree, instead of a table b-tree plus an index (half the writes per new origin).
CREATE TABLE `login_origins_new` (
	`subject` text NOT NULL,
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`first_seen` integer NOT NULL,
	PRIMARY KEY(`subject`, `kind`, `value`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `login_origins_new` SELECT `subject`, `kind`, `value`, `first_seen` FROM `login_origins`;--> statement-breakpoint
DROP TABLE `login_origins`;--> statement-breakpoint
ALTER TABLE `login_origins_new` RENAME TO `login_origins`;
