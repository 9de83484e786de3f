CREATE TABLE `login_origins` (
	`subject` text NOT NULL,
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`first_seen` integer NOT NULL,
	PRIMARY KEY(`subject`, `kind`, `value`)
);
--> statement-breakpoint
CREATE TABLE `red_flag_entries` (
	`flag_id` integer NOT NULL,
	`entry_id` integer NOT NULL,
	PRIMARY KEY(`flag_id`, `entry_id`),
	FOREIGN KEY (`flag_id`) REFERENCES `red_flags`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `red_flag_entries_entry` ON `red_flag_entries` (`entry_id`);--> statement-breakpoint
CREATE TABLE `red_flags` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule` text NOT NULL,
	`subject` text NOT NULL,
	`severity` text NOT NULL,
	`title` text NOT NULL,
	`explanation` text NOT NULL,
	`action` text NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`entry_count` integer DEFAULT 0 NOT NULL,
	`first_entry_id` integer,
	`last_entry_id` integer,
	`raised_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`closed_at` integer,
	`closed_by` text,
	`note` text
);
--> statement-breakpoint
CREATE INDEX `red_flags_status_id` ON `red_flags` (`status`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `red_flags_open_subject` ON `red_flags` (`rule`,`subject`) WHERE "red_flags"."status" = 'open';--> statement-breakpoint
ALTER TABLE `audit_log` ADD `event_id` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `country` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `ticket` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `target_system` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `fingerprint` text;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_log_event_id` ON `audit_log` (`event_id`) WHERE "audit_log"."event_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `audit_log_target_action_ts` ON `audit_log` (`target`,`action`,`ts`);--> statement-breakpoint
CREATE INDEX `audit_log_principal_action_ts` ON `audit_log` (`principal`,`action`,`ts`);--> statement-breakpoint
CREATE INDEX `audit_log_fingerprint_ts` ON `audit_log` (`fingerprint`,`ts`) WHERE "audit_log"."fingerprint" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `audit_log_5xx_ts` ON `audit_log` (`ts`) WHERE "audit_log"."http" >= 500;