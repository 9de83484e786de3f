-- Two indexes that every ingested event paid for, each with a write on a random page when a batch's
-- events fall among those of the batches before it (a log shipper's do): bench:ingest-writer measured
-- ~390 (event id) and ~190-320 (action) of the ~1,920 pages a batch of 500 changed.
-- * (action, ts) served only the wall-of-401s rule: a partial index of the SCIM authentication
--   failures takes its place.
-- * (ts, event_id) was how an ingested event is known again. A re-sent event has the same time,
--   sender id, subject and action: the no-replace trigger now looks for it in the rules' subject
--   index (day, subject, action, ts), which every entry is written to anyway, and checks the sender
--   id on the rows found there (one, nearly always).
DROP INDEX `audit_log_action_ts`;--> statement-breakpoint
DROP INDEX `audit_log_event_id`;--> statement-breakpoint
CREATE INDEX `audit_log_scim_auth_ts` ON `audit_log` (`ts`,`fingerprint`) WHERE "audit_log"."action" = 'SCIM_AUTH';--> statement-breakpoint
DROP TRIGGER `audit_log_no_replace`;--> statement-breakpoint
CREATE TRIGGER `audit_log_no_replace` BEFORE INSERT ON `audit_log`
WHEN (NEW.`id` IS NOT NULL AND EXISTS (SELECT 1 FROM `audit_log` WHERE `id` = NEW.`id`))
  OR (NEW.`event_id` IS NOT NULL AND EXISTS (
    SELECT 1 FROM `audit_log` INDEXED BY `audit_log_day_subject_action_ts`
    WHERE `ts` / 86400000 IS NEW.`ts` / 86400000 AND `subject` IS NEW.`subject` AND `action` IS NEW.`action`
      AND `ts` IS NEW.`ts` AND `event_id` = NEW.`event_id`))
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only: an existing entry cannot be replaced');
END;
