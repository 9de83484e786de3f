-- REPLACE (INSERT OR REPLACE, or an upsert that replaces) would delete an entry without firing the
-- DELETE trigger: refuse any insert that would collide with an existing entry's id or event id.
CREATE TRIGGER `audit_log_no_replace` BEFORE INSERT ON `audit_log`
WHEN (NEW.`id` IS NOT NULL AND EXISTS (SELECT 1 FROM `audit_log` WHERE `id` = NEW.`id`))
  OR (NEW.`event_id` IS NOT NULL AND EXISTS (SELECT 1 FROM `audit_log` WHERE `event_id` = NEW.`event_id`))
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only: an existing entry cannot be replaced');
END;
