-- The entries of a resource are found by subject (the subject index every entry is written to)
-- under each name the resource has had, instead of by an index of every entry's resource id: one
-- random page write fewer per SCIM write. WITHOUT ROWID: looked up and filled by its key only.
CREATE TABLE `audit_resource_subjects` (
	`resource_id` text NOT NULL,
	`subject` text NOT NULL,
	PRIMARY KEY(`resource_id`, `subject`)
) WITHOUT ROWID;
--> statement-breakpoint
-- the pairs of the entries already in the log, read through the index that is dropped next
INSERT INTO `audit_resource_subjects` (`resource_id`, `subject`)
  SELECT DISTINCT `resource_id`, `subject` FROM `audit_log` INDEXED BY `audit_log_resource`
  WHERE `resource_id` IS NOT NULL AND `subject` IS NOT NULL;--> statement-breakpoint
DROP INDEX `audit_log_resource`;--> statement-breakpoint
CREATE INDEX `audit_log_resource_unnamed` ON `audit_log` (`resource_id`) WHERE "audit_log"."resource_id" IS NOT NULL AND "audit_log"."subject" IS NULL;--> statement-breakpoint
-- Every writer of the log keeps the pairs, the CLI and other tools too. Not INSERT OR IGNORE: the
-- statement that fires a trigger imposes its conflict policy on the trigger's statements, and an
-- INSERT OR ABORT into audit_log would then fail on a pair that exists.
CREATE TRIGGER `audit_log_resource_subject` AFTER INSERT ON `audit_log`
WHEN NEW.`resource_id` IS NOT NULL AND NEW.`subject` IS NOT NULL
BEGIN
	INSERT INTO `audit_resource_subjects` (`resource_id`, `subject`)
	SELECT NEW.`resource_id`, NEW.`subject`
	WHERE NOT EXISTS (SELECT 1 FROM `audit_resource_subjects` WHERE `resource_id` = NEW.`resource_id` AND `subject` = NEW.`subject`);
END;
