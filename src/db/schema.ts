// Drizzle schema of the iamtrail database; drizzle-kit turns it into the SQL migrations in db/migrations.
// SCIM resources keep their full JSON in `data` and copy the indexed lookup keys into columns.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    /** SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough and allows lookup */
    tokenHash: text('token_hash').notNull(),
    scope: text('scope').notNull().default('scim'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at'),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
    createdBy: text('created_by'),
  },
  (t) => [uniqueIndex('api_tokens_token_hash').on(t.tokenHash), uniqueIndex('api_tokens_name').on(sql`lower(${t.name})`)],
);

export const scimUsers = sqliteTable(
  'scim_users',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    id: text('id').notNull(),
    userName: text('user_name').notNull(),
    /** fold(user_name) (src/scim/fold.ts), computed in JS: SQLite's lower() folds ASCII only. NULL
     * only for a legacy case variant of another user's userName (see backfillScimKeys) */
    userNameKey: text('user_name_key'),
    externalId: text('external_id'),
    displayName: text('display_name'),
    /** fold(display_name), NULL when there is none */
    displayNameKey: text('display_name_key'),
    active: integer('active', { mode: 'boolean' }).notNull().default(true),
    /** the resource as JSON, canonical attribute names, without id, meta, groups and password */
    data: text('data').notNull(),
    passwordHash: text('password_hash'),
    version: integer('version').notNull().default(1),
    createdAt: text('created_at').notNull(),
    lastModified: text('last_modified').notNull(),
  },
  (t) => [
    uniqueIndex('scim_users_id').on(t.id),
    // userName is unique case-insensitively (RFC 7643 §4.1.1). On stored keys, not on an index of a
    // custom SQL function: such an index would leave the file unwritable by any other SQLite tool
    uniqueIndex('scim_users_user_name_key').on(t.userNameKey),
    index('scim_users_external_id').on(t.externalId),
    index('scim_users_display_name_key').on(t.displayNameKey),
  ],
);

export const scimGroups = sqliteTable(
  'scim_groups',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    id: text('id').notNull(),
    displayName: text('display_name').notNull(),
    /** fold(display_name) (src/scim/fold.ts); NULL only for a legacy case variant of another group's */
    displayNameKey: text('display_name_key'),
    externalId: text('external_id'),
    data: text('data').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: text('created_at').notNull(),
    lastModified: text('last_modified').notNull(),
  },
  (t) => [
    uniqueIndex('scim_groups_id').on(t.id),
    uniqueIndex('scim_groups_display_name_key').on(t.displayNameKey),
    index('scim_groups_external_id').on(t.externalId),
  ],
);

export const groupMembers = sqliteTable(
  'group_members',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => scimGroups.id, { onDelete: 'cascade' }),
    memberId: text('member_id').notNull(),
    /** 'User' or 'Group' */
    memberType: text('member_type').notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.memberId] }), index('group_members_member').on(t.memberId)],
);

/** an entry's UTC day as the audit log's day index computes it: ts / 86400000 in SQLite, whose
 * integer division truncates toward zero (so does this, for times before 1970) */
export const ENTRY_DAY_SQL = 'ts / 86400000';
export const DAY_MS = 86_400_000;
export const entryDay = (ts: number) => Math.trunc(ts / DAY_MS);

/**
 * The audit trail. Append-only: migration 0001 adds triggers that refuse UPDATE and DELETE.
 * `id` is the keyset cursor of the Logs screen; `ts` is epoch milliseconds (null when unknown).
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ts: integer('ts'),
    type: text('type').notNull(),
    protocol: text('protocol').notNull(),
    event: text('event').notNull(),
    http: integer('http'),
    log: text('log').notNull(),
    action: text('action'),
    outcome: text('outcome'),
    principal: text('principal'),
    target: text('target'),
    resourceId: text('resource_id'),
    sourceIp: text('source_ip'),
    userAgent: text('user_agent'),
    /** the sender's event id (ingested events): with the time, user and action, what makes a re-sent event a duplicate */
    eventId: text('event_id'),
    country: text('country'),
    ticket: text('ticket'),
    targetSystem: text('target_system'),
    /** what makes two failures "the same request" (SCIM: method, path, status) */
    fingerprint: text('fingerprint'),
    /** whom the entry is about, lower case (target, else principal): the rules' window key */
    subject: text('subject'),
  },
  (t) => [
    // Every index costs each append (ingestion writes tens of thousands of entries a second), so
    // the ones that only some entries need are partial: an entry pays only for what it is found by.
    // The entries of a resource (a SCIM user or group, a token…) are found by their subject, under
    // each name the resource has had (audit_resource_subjects below), and, when they have no
    // subject, by this index. An index of every entry's resource id cost each SCIM write a write on
    // a random page (1.3 WAL frames per PATCH, 12 µs of its ~63 µs in SQLite, measured): every entry
    // with a subject is in the subject index anyway.
    index('audit_log_resource_unnamed').on(t.resourceId).where(sql`${t.resourceId} IS NOT NULL AND ${t.subject} IS NULL`),
    // the wall-of-401s rule (scim-auth-wall): the SCIM authentication failures of a window and their
    // causes. A general (action, ts) index served it until migration 0016, and cost every entry a
    // write on a random page of its action's last seconds when ingested events arrive out of order.
    index('audit_log_scim_auth_ts').on(t.ts, t.fingerprint).where(sql`${t.action} = 'SCIM_AUTH'`),
    // the red-flag rules' window queries: per subject and action, in time order. The outcome comes
    // last: the rules count FAILUREs (or SUCCESSes) in a time range, and with it in the index the
    // count reads no row — without it, each entry of the window cost a random read of its row
    // (208 µs per count for an account with a wall of failures, measured).
    // The UTC day comes first (ENTRY_DAY_SQL): every window is within days that are known, and
    // with the day first, new entries land in today's part of the index, which stays small and in
    // the page cache. Keyed by subject alone, each entry went to a random page of an index that
    // grows with the log (~700 MB at 10 M entries), read from disk or the OS cache first.
    // It is also how an ingested event is known again (migration 0016): a re-sent event has the same
    // time, sender id, subject and action, and the no-replace trigger seeks it here, down to the
    // sender id (migration 0018; without it, the trigger read every row of the same user, action and
    // time: all of a user's events sent without a time, quadratic). Its own unique (ts, event_id)
    // index cost every event a write on a random page of the last seconds' events, when events
    // arrive out of order, as a log shipper's batches do.
    index('audit_log_day_subject_action_ts').on(sql`(${t.ts} / 86400000)`, t.subject, t.action, t.ts, t.eventId, t.outcome),
    // an actor acting on someone else (a token deleting users, an admin resetting a password), in
    // time order: the detail view's related entries of the same actor around an entry's time. An
    // entry whose principal is its subject (a user signing in) is found through the subject index.
    // Until migration 0017 the action came before the time, and that lookup read every entry the
    // actor ever made (a SCIM token's millions of requests) to keep the window's.
    index('audit_log_principal_ts')
      .on(t.principal, t.ts)
      .where(sql`${t.principal} IS NOT NULL AND lower(${t.principal}) <> ${t.subject}`),
    // scim-bulk-removal: one token's successful SCIM deletions and deactivations, every column the
    // rule asks in the index (a bulk offboarding of thousands of users re-counts its window with
    // each removal: with row reads that cost 337 µs per removal at 1,000 in the window)
    index('audit_log_scim_removal_ts')
      .on(t.principal, t.ts, t.action, t.protocol, t.outcome)
      .where(sql`${t.action} IN ('PROVISIONING_DELETE', 'PROVISIONING_DISABLE') AND ${t.protocol} = 'SCIM' AND ${t.outcome} = 'SUCCESS'`),
    index('audit_log_fingerprint_ts').on(t.fingerprint, t.ts).where(sql`${t.fingerprint} IS NOT NULL`),
    index('audit_log_5xx_ts').on(t.ts).where(sql`${t.http} >= 500`),
    // the synchronization rules, per source system: tiny, only their own entries. The system is
    // compared case-insensitively ("Workday", "WORKDAY" are one feed), so the key is
    // lower(target_system); the raw value is in the index too, which lets the queries read the index
    // alone (without it SQLite reads each row to check the expression). Compromise: SQLite's lower()
    // folds ASCII only, so names that differ only in the case of a non-ASCII letter stay two systems
    // (a JS fold would need a stored column or an index on a custom function, which other SQLite
    // tools could not write to).
    index('audit_log_sync_failure_ts').on(sql`lower(${t.targetSystem})`, t.ts, t.targetSystem).where(sql`${t.action} = 'SYNCHRONIZATION' AND ${t.outcome} = 'FAILURE'`),
    index('audit_log_orphan_ts').on(sql`lower(${t.targetSystem})`, t.ts, t.targetSystem).where(sql`${t.action} = 'SYNCHRONIZATION_ORPHAN'`),
    index('audit_log_recon_false_ts').on(sql`lower(${t.targetSystem})`, t.ts, t.subject, t.targetSystem).where(sql`${t.action} = 'RECONCILIATION_RECORD_FALSE'`),
  ],
);

/** Red flags raised by the rules (src/audit/rules.ts); one open flag per rule and subject. */
export const redFlags = sqliteTable(
  'red_flags',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    rule: text('rule').notNull(),
    /** what the flag is about: a user, a token, a system… (dedupe key with the rule) */
    subject: text('subject').notNull(),
    severity: text('severity').notNull(),
    title: text('title').notNull(),
    explanation: text('explanation').notNull(),
    action: text('action').notNull(),
    status: text('status').notNull().default('open'),
    entryCount: integer('entry_count').notNull().default(0),
    firstEntryId: integer('first_entry_id'),
    lastEntryId: integer('last_entry_id'),
    raisedAt: integer('raised_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    closedAt: integer('closed_at'),
    closedBy: text('closed_by'),
    note: text('note'),
  },
  (t) => [
    index('red_flags_status_id').on(t.status, t.id),
    uniqueIndex('red_flags_open_subject').on(t.rule, t.subject).where(sql`${t.status} = 'open'`),
  ],
);

export const redFlagEntries = sqliteTable(
  'red_flag_entries',
  {
    flagId: integer('flag_id')
      .notNull()
      .references(() => redFlags.id),
    entryId: integer('entry_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.flagId, t.entryId] }), index('red_flag_entries_entry').on(t.entryId)],
);

/** Where each user has signed in from, for the "new IP or country" rule. */
export const loginOrigins = sqliteTable(
  'login_origins',
  {
    subject: text('subject').notNull(),
    kind: text('kind').notNull(),
    value: text('value').notNull(),
    firstSeen: integer('first_seen').notNull(),
  },
  (t) => [primaryKey({ columns: [t.subject, t.kind, t.value] })],
);

/**
 * Every subject (folded name) under which the audit log holds entries of a resource: a user's
 * entries before and after a rename are both about its id. Filled by a trigger on audit_log
 * (migration 0019) when an entry names a resource and a subject not seen together before, so
 * a SCIM PATCH, whose pair is known, writes nothing here.
 */
export const auditResourceSubjects = sqliteTable(
  'audit_resource_subjects',
  {
    resourceId: text('resource_id').notNull(),
    subject: text('subject').notNull(),
  },
  (t) => [primaryKey({ columns: [t.resourceId, t.subject] })],
);

/** Console accounts created locally (`iamtrail admin create`). SCIM users sign in from scim_users. */
export const accounts = sqliteTable(
  'accounts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    passwordChangedAt: integer('password_changed_at'),
  },
  (t) => [uniqueIndex('accounts_username').on(sql`lower(${t.username})`)],
);

export const roles = sqliteTable(
  'roles',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** JSON array of permission names, e.g. ["IT Settings IAM"] */
    permissions: text('permissions').notNull().default('[]'),
  },
  (t) => [uniqueIndex('roles_name').on(sql`lower(${t.name})`)],
);

export const accountRoles = sqliteTable(
  'account_roles',
  {
    accountId: integer('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    roleId: integer('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.roleId] })],
);

/** Roles Mapping: an IdP group received over SCIM grants a role to its members. */
export const roleMappings = sqliteTable(
  'role_mappings',
  {
    groupId: text('group_id')
      .primaryKey()
      .references(() => scimGroups.id, { onDelete: 'cascade' }),
    roleId: integer('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
  },
);

/** Failed sign-ins per username (lower case), for lockout; the audit log keeps the history. */
export const signInFailures = sqliteTable('sign_in_failures', {
  username: text('username').primaryKey(),
  count: integer('count').notNull(),
  windowStart: integer('window_start').notNull(),
  lockedUntil: integer('locked_until'),
});

/** Console sessions (@fastify/session store); they survive a restart. */
export const sessions = sqliteTable(
  'sessions',
  {
    sid: text('sid').primaryKey(),
    data: text('data').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_expires_at').on(t.expiresAt)],
);
