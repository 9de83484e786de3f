CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`scope` text DEFAULT 'scim' NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`last_used_at` integer,
	`revoked_at` integer,
	`created_by` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_name` ON `api_tokens` (lower("name"));--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`ts` integer,
	`type` text NOT NULL,
	`protocol` text NOT NULL,
	`event` text NOT NULL,
	`http` integer,
	`log` text NOT NULL,
	`action` text,
	`outcome` text,
	`principal` text,
	`target` text,
	`resource_id` text,
	`source_ip` text,
	`user_agent` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_resource` ON `audit_log` (`resource_id`);--> statement-breakpoint
CREATE INDEX `audit_log_action_ts` ON `audit_log` (`action`,`ts`);--> statement-breakpoint
CREATE TABLE `group_members` (
	`group_id` text NOT NULL,
	`member_id` text NOT NULL,
	`member_type` text NOT NULL,
	PRIMARY KEY(`group_id`, `member_id`),
	FOREIGN KEY (`group_id`) REFERENCES `scim_groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `group_members_member` ON `group_members` (`member_id`);--> statement-breakpoint
CREATE TABLE `scim_groups` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`display_name` text NOT NULL,
	`external_id` text,
	`data` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`last_modified` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `scim_groups_id` ON `scim_groups` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `scim_groups_display_name` ON `scim_groups` (lower("display_name"));--> statement-breakpoint
CREATE INDEX `scim_groups_external_id` ON `scim_groups` (`external_id`);--> statement-breakpoint
CREATE TABLE `scim_users` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`user_name` text NOT NULL,
	`external_id` text,
	`display_name` text,
	`active` integer DEFAULT true NOT NULL,
	`data` text NOT NULL,
	`password_hash` text,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` text NOT NULL,
	`last_modified` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `scim_users_id` ON `scim_users` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `scim_users_user_name` ON `scim_users` (lower("user_name"));--> statement-breakpoint
CREATE INDEX `scim_users_external_id` ON `scim_users` (`external_id`);--> statement-breakpoint
CREATE INDEX `scim_users_display_name` ON `scim_users` (lower("display_name"));--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
