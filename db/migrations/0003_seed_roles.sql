-- The built-in roles. "IT Settings IAM" opens every IT Settings › IAM Settings screen.
INSERT INTO `roles` (`name`, `description`, `permissions`) VALUES
  ('Administrator', 'Full access to IT Settings › IAM Settings, including the Logs', '["IT Settings IAM"]'),
  ('Compliance Officer', 'Reads and documents the IAM audit trail and settings', '["IT Settings IAM"]'),
  ('Employee', 'Signs in; no access to IT Settings', '[]');
