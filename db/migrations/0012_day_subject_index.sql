DROP INDEX `audit_log_subject_action_ts`;--> statement-breakpoint
CREATE INDEX `audit_log_day_subject_action_ts` ON `audit_log` (("ts" / 86400000),`subject`,`action`,`ts`,`outcome`);