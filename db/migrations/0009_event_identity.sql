DROP INDEX `audit_log_event_id`;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_log_event_id` ON `audit_log` (`ts`,`event_id`) WHERE "audit_log"."event_id" IS NOT NULL;--> statement-breakpoint
-- the same guard as migration 0005, on the new identity of an ingested event (time and sender id)
DROP TRIGGER `audit_log_no_replace`;--> statement-breakpoint
CREATE TRIGGER `audit_log_no_replace` BEFORE INSERT ON `audit_log`
WHEN (NEW.`id` IS NOT NULL AND EXISTS (SELECT 1 FROM `audit_log` WHERE `id` = NEW.`id`))
  OR (NEW.`event_id` IS NOT NULL AND EXISTS (SELECT 1 FROM `audit_log` WHERE `ts` IS NEW.`ts` AND `event_id` = NEW.`event_id`))
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only: an existing entry cannot be replaced');
END;
