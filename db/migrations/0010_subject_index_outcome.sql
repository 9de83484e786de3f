DROP INDEX `audit_log_subject_action_ts`;--> statement-breakpoint
CREATE INDEX `audit_log_subject_action_ts` ON `audit_log` (`subject`,`action`,`ts`,`outcome`);