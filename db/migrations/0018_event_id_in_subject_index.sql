-- The no-replace trigger (migration 0016) finds a re-sent event in this index by day, user, action and
-- time, then read each such row for its sender id: every event of a user and action sent without a
-- time shares one key, so storing n of them read n²/2 rows (20,000 took 47 s). With the sender id in
-- the index, the trigger seeks the event itself. Rebuilding the index reads every entry once.
DROP INDEX `audit_log_day_subject_action_ts`;--> statement-breakpoint
CREATE INDEX `audit_log_day_subject_action_ts` ON `audit_log` (("ts" / 86400000),`subject`,`action`,`ts`,`event_id`,`outcome`);
