DROP INDEX `scim_groups_display_name`;--> statement-breakpoint
ALTER TABLE `scim_groups` ADD `display_name_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `scim_groups_display_name_key` ON `scim_groups` (`display_name_key`);--> statement-breakpoint
DROP INDEX `scim_users_user_name`;--> statement-breakpoint
DROP INDEX `scim_users_display_name`;--> statement-breakpoint
ALTER TABLE `scim_users` ADD `user_name_key` text;--> statement-breakpoint
ALTER TABLE `scim_users` ADD `display_name_key` text;--> statement-breakpoint
CREATE UNIQUE INDEX `scim_users_user_name_key` ON `scim_users` (`user_name_key`);--> statement-breakpoint
CREATE INDEX `scim_users_display_name_key` ON `scim_users` (`display_name_key`);