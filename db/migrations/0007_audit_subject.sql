DROP INDEX `audit_log_target_action_ts`;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `subject` text;--> statement-breakpoint
CREATE INDEX `audit_log_subject_action_ts` ON `audit_log` (`subject`,`action`,`ts`);