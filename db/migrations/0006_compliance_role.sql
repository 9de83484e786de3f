-- Say what the role really grants: "IT Settings IAM" opens every IAM Settings screen, changes included.
UPDATE `roles` SET `description` = 'Opens every IT Settings › IAM Settings screen, like Administrator (the console has no read-only permission yet)' WHERE `name` = 'Compliance Officer';
