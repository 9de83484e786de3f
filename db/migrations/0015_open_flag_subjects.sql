-- The sign-in and synchronization rules key their flags in lower case since migration 0014's release
-- ("Alice" and "alice" are one account, "Workday" and "WORKDAY" one feed). Open flags raised before
-- under a name in another case would no longer be found, and the next entry would open a second
-- flag: they are keyed in lower case here. Where an open flag of the lower-case key exists already
-- (the case variants that opened several flags), the others are left as they are (OR IGNORE).
UPDATE OR IGNORE `red_flags` SET `subject` = lower(`subject`)
WHERE `status` = 'open'
  AND `rule` IN ('login-brute-force', 'login-success-after-failures', 'sync-failing-days', 'orphan-volume', 'reconciliation-drift')
  AND `subject` <> lower(`subject`);
