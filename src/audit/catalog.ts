// The event catalog: every action code an audit entry can carry, what it records, what it means and
// what to do about it. The interpretation guide of seed 004 rephrased (and adapted to iamtrail where
// it helps), plus the codes iamtrail writes itself. Kept as data; src/audit/interpret.ts applies it.

export type Category = 'Login' | 'Password' | 'Provisioning' | 'Synchronization' | 'SCIM' | 'Console' | 'Tokens' | 'Settings' | 'Red flags' | 'Export';

export interface Guidance {
  meaning: string;
  action: string;
}

export interface CatalogEntry {
  /** the action code, e.g. 'LOGIN' */
  code: string;
  /** human Event name, used for ingested events that bring only a code, e.g. 'Sign In' */
  label: string;
  category: Category;
  source: 'seed-004' | 'iamtrail';
  /** one line: what the event records */
  summary: string;
  /** what it means / what to do when no variant applies */
  default: Guidance;
  outcomes?: Partial<Record<'SUCCESS' | 'FAILURE', Guidance>>;
  /**
   * the code records a failure itself (a counted failed sign-in, a lock, a refused SCIM request, a
   * drifted record): an outcome of FAILURE adds nothing, and its default guidance applies. For any
   * other code without FAILURE guidance, a FAILURE reads as "this did not happen" (interpret.ts).
   */
  failureIsTheEvent?: true;
  /** CHANGE_PASSWORD-style: principal = target vs principal ≠ target */
  principal?: { self: Guidance; other: Guidance };
  /** the entry arrived over SCIM (iamtrail is the managed system): the Http and Log columns tell the story */
  scim?: Guidance;
  /** codes whose entries around it matter (e.g. LOGIN → INCREMENT_FAIL_AUTH_COUNT, USER_ACCOUNT_LOCKED) */
  related?: string[];
  /** the red-flag rule ids (from src/audit/rules.ts RULES) that look at this code */
  rules?: string[];
}

/** The order in which the forgot-password flow of seed 004 is expected to run. */
export const FORGOT_PASSWORD_SEQUENCE: readonly string[] = ['FORGOT_PASSWORD', 'ANSWER_CHALLENGE_RESPONSE_QUESTIONS', 'CHANGE_PASSWORD'];

const SEED = 'seed-004' as const;
const OWN = 'iamtrail' as const;

export const CATALOG: readonly CatalogEntry[] = [
  // ── Login and sign-in (seed 004) ────────────────────────────────────────────────────────────────
  {
    code: 'LOGIN',
    label: 'Sign In',
    category: 'Login',
    source: SEED,
    summary: 'Someone tried to sign in, successfully or not.',
    default: {
      meaning: 'A sign-in attempt; the Outcome column says whether it worked.',
      action: 'Read it together with the entries around it for the same account: failures before a success, a new address or country, an unusual hour.',
    },
    outcomes: {
      SUCCESS: {
        meaning: 'The account signed in.',
        action: 'Nothing to do on its own. Look closer if it follows a run of failures, comes from an address or country the user never used, or happens at an odd hour.',
      },
      FAILURE: {
        meaning: 'The sign-in was refused: the username or password was wrong (in iamtrail the Log column gives the reason — unknown user, wrong password, account locked or disabled).',
        action: 'One failure is a typo. Keep an eye on repeated failures for the same account: several in a row point to guessing or to a user who is locked out.',
      },
    },
    related: ['INCREMENT_FAIL_AUTH_COUNT', 'USER_ACCOUNT_LOCKED', 'LOGOUT'],
    rules: ['login-brute-force', 'login-success-after-failures', 'login-new-origin', 'login-unusual-hours'],
  },
  {
    code: 'INCREMENT_FAIL_AUTH_COUNT',
    label: 'Count Failed Sign-In',
    category: 'Login',
    failureIsTheEvent: true,
    source: SEED,
    summary: 'The failed sign-in counter of an account went up by one.',
    default: {
      meaning: 'A failed sign-in was counted against the account; it normally comes right after a LOGIN FAILURE. iamtrail writes the count so far and the lockout threshold in the Log column.',
      action: 'Nothing to do when it happens now and then. When the count climbs quickly for one account, find out whether the user is struggling or someone else is guessing.',
    },
    related: ['LOGIN', 'USER_ACCOUNT_LOCKED'],
  },
  {
    code: 'USER_ACCOUNT_LOCKED',
    label: 'Lock Account',
    category: 'Login',
    failureIsTheEvent: true,
    source: SEED,
    summary: 'An account was locked automatically after too many failed sign-ins.',
    default: {
      meaning: 'The failed-attempt limit was reached, so the account was locked automatically and further guessing is blocked for now.',
      action: 'Ask the user whether those attempts were theirs. If they were, unlock it: in iamtrail the lock lifts by itself after the lock period, or an administrator sets a new password (Accounts screen or `iamtrail admin set-password`), which clears it. If they were not, treat it as an attack.',
    },
    related: ['LOGIN', 'INCREMENT_FAIL_AUTH_COUNT', 'USER_RESET_PASSWORD_ON_BEHALF'],
    rules: ['login-brute-force'],
  },
  {
    code: 'IMPERSONATION',
    label: 'Impersonate User',
    category: 'Login',
    source: SEED,
    summary: "An administrator took on another user's identity.",
    default: {
      meaning: 'An administrator (the Principal) acted as another user (the Target) by signing in as them.',
      action: 'Always review it: there should be a good reason on record, such as a support ticket or an investigation. Ask the administrator for it if the entry carries none.',
    },
    outcomes: {
      FAILURE: {
        meaning: "The administrator (the Principal) tried to act as another user (the Target), but the attempt was refused or failed: they did not get that user's access.",
        action: 'Find out why they tried: a ticket or a documented support case should stand behind every attempt. Repeated refused attempts by one administrator deserve a conversation.',
      },
    },
    rules: ['impersonation-without-ticket'],
  },
  {
    code: 'LOGIN_VIA_SOCIAL',
    label: 'Sign In with Social Provider',
    category: 'Login',
    source: SEED,
    summary: 'A user signed in through a social or OAuth provider.',
    default: {
      meaning: 'The user signed in through an external social/OAuth provider (Google, Facebook and the like) instead of a local password.',
      action: 'Expected where social sign-in is switched on; if it is supposed to be off, find out how it happened.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'A sign-in through an external social/OAuth provider failed: the user was not let in.',
        action: 'Occasional failures are normal (a cancelled consent, an expired provider session). Many in a row for one user, or from unusual places, deserve a look at the provider link.',
      },
    },
    related: ['LOGIN'],
  },
  {
    code: 'SAML_IDP_INITIATED_SSO',
    label: 'SAML Single Sign-On',
    category: 'Login',
    source: SEED,
    summary: 'A user was signed in by a SAML identity provider (IdP-initiated SSO).',
    default: {
      meaning: 'A federated SAML identity provider started the sign-in, and the user was let in without entering a password here.',
      action: 'Routine in a federated setup; nothing to do.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'A sign-in started by a federated SAML identity provider was refused: the user was not let in.',
        action: 'Check the federation: an expired signing certificate, clock skew or a changed entity id makes every such sign-in fail. A single failure may be a stale link.',
      },
    },
    related: ['LOGIN'],
  },
  {
    code: 'LOGOUT',
    label: 'Sign Out',
    category: 'Login',
    source: SEED,
    summary: 'A user signed out (or the session ended).',
    default: {
      meaning: 'The session ended: the user signed out (iamtrail also records when a session is ended for them; the Log column says which).',
      action: 'Normal; nothing to do.',
    },
    related: ['LOGIN'],
  },

  // ── Passwords (seed 004) ─────────────────────────────────────────────────────────────────────────
  {
    code: 'CHANGE_PASSWORD',
    label: 'Change Password',
    category: 'Password',
    source: SEED,
    summary: "A user's password was set, changed or reset.",
    default: {
      meaning: "A user's password changed. Compare the Principal (who did it) with the Target (whose password it is) to tell a self-service change from one made by someone else.",
      action: 'If the user changed it themselves, nothing to do. If someone else did, check they were allowed to. When it ends a forgot-password flow, check that FORGOT_PASSWORD and ANSWER_CHALLENGE_RESPONSE_QUESTIONS came first, in that order.',
    },
    principal: {
      self: {
        meaning: 'The user changed their own password (self-service; in iamtrail, the profile page).',
        action: 'Normal; nothing to do. If it closes a forgot-password flow, the steps should read FORGOT_PASSWORD, then ANSWER_CHALLENGE_RESPONSE_QUESTIONS, then this entry.',
      },
      other: {
        meaning: "Someone else — an administrator, a service account or an automated process — changed this user's password.",
        action: 'Confirm that the Principal had the right to do it. A service or system account doing this at an unexpected time deserves a closer look.',
      },
    },
    outcomes: {
      FAILURE: {
        meaning: 'A password change was attempted but not applied (in iamtrail: the current password given was wrong).',
        action: 'A single failure is usually a typo. Several for one account may mean someone with an open session is trying to take the account over.',
      },
    },
    related: ['FORGOT_PASSWORD', 'ANSWER_CHALLENGE_RESPONSE_QUESTIONS', 'USE_RESET_PASSWORD_TOKEN', 'USER_RESET_PASSWORD_ON_BEHALF'],
    rules: ['service-account-password-change', 'repeated-password-changes'],
  },
  {
    code: 'FORGOT_PASSWORD',
    label: 'Forgot Password',
    category: 'Password',
    source: SEED,
    summary: 'A user started the self-service forgot-password flow.',
    default: {
      meaning: 'The first step of the self-service recovery flow: the user said they forgot their password. The flow goes on with ANSWER_CHALLENGE_RESPONSE_QUESTIONS and ends with CHANGE_PASSWORD.',
      action: 'Normal. Check that the following steps appear in that order; a reset link used without this entry before it is suspicious.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'A password-recovery request failed: no reset was started (an unknown account, a blocked flow or a delivery problem).',
        action: 'Usually harmless. Many failed requests for different accounts from one place can be someone probing which accounts exist.',
      },
    },
    related: ['ANSWER_CHALLENGE_RESPONSE_QUESTIONS', 'CHANGE_PASSWORD', 'USE_RESET_PASSWORD_TOKEN'],
    rules: ['reset-token-without-forgot'],
  },
  {
    code: 'ANSWER_CHALLENGE_RESPONSE_QUESTIONS',
    label: 'Answer Security Questions',
    category: 'Password',
    source: SEED,
    summary: 'A user answered their security (challenge/response) questions.',
    default: {
      meaning: 'The middle step of the forgot-password flow: the user proved who they are with their security questions, after FORGOT_PASSWORD and before CHANGE_PASSWORD.',
      action: 'Normal as part of that flow. Check the order of the three steps; answers without a FORGOT_PASSWORD before them, or a CHANGE_PASSWORD without these answers, are worth a question.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'The answers to the security questions were wrong, so the recovery flow stopped here.',
        action: 'Occasional failures are normal; many in a row for one account suggest someone else is trying to recover it.',
      },
    },
    related: ['FORGOT_PASSWORD', 'CHANGE_PASSWORD'],
  },
  {
    code: 'USER_RESET_PASSWORD_ON_BEHALF',
    label: 'Reset Password',
    category: 'Password',
    source: SEED,
    summary: "An administrator reset a user's password for them.",
    default: {
      meaning: "An administrator (the Principal) set a new password for the user (the Target). In iamtrail this also clears a sign-in lock on that account.",
      action: 'Check that the administrator was allowed to do it and that the user asked for it or agreed to it.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'An administrator (the Principal) tried to set a new password for the user (the Target), and it failed: the old password still applies.',
        action: 'Find out why it failed and whether the reset is still needed; if the user is waiting for it (a lockout, a suspected compromise), make sure it is done another way.',
      },
    },
    related: ['CHANGE_PASSWORD', 'USER_ACCOUNT_LOCKED'],
  },
  {
    code: 'BULK_ADMIN_USER_RESET_PASSWORD',
    label: 'Bulk Password Reset',
    category: 'Password',
    source: SEED,
    summary: 'An administrator reset the passwords of many users in one go.',
    default: {
      meaning: 'One administrative action reset the passwords of several users at once.',
      action: 'High impact: make sure it was planned (a maintenance window) and authorized. Done outside one, treat it as an incident until explained.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'A bulk password reset failed, completely or in part: some or all of the users kept their old passwords.',
        action: 'Find out which users were not reset. If the reset was a response to a compromise, the accounts left out are still exposed.',
      },
    },
    related: ['USER_RESET_PASSWORD_ON_BEHALF'],
    rules: ['bulk-reset-outside-maintenance'],
  },
  {
    code: 'CHECK_IF_PASSWORD_WAS_COMPROMISED',
    label: 'Check Breached Password',
    category: 'Password',
    source: SEED,
    summary: 'A new password was checked against a database of breached passwords.',
    default: {
      meaning: 'Before accepting a new password, the system looked it up in a breach database.',
      action: 'For information only; nothing to do.',
    },
    outcomes: {
      SUCCESS: {
        meaning: 'The password was not found among known breached passwords and could be used.',
        action: 'For information only; nothing to do.',
      },
      FAILURE: {
        meaning: 'The password the user picked is known from a breach, so it was refused.',
        action: 'Nothing to do: the control worked, and the user has to pick another password. Many of these for one user may mean they reuse passwords elsewhere.',
      },
    },
    related: ['CHANGE_PASSWORD'],
  },
  {
    code: 'PROVISIONING_RESET_PASSWORD',
    label: 'Reset Password on Managed System',
    category: 'Password',
    source: SEED,
    summary: 'A password changed on a connected system as part of provisioning.',
    default: {
      meaning: "Provisioning gave the user a new password on a connected system, such as Active Directory.",
      action: 'Expected during onboarding and offboarding; otherwise find out which workflow did it.',
    },
    outcomes: {
      FAILURE: {
        meaning: "Provisioning could not set the user's new password on the connected system: the old password still applies there.",
        action: 'Check the connector and the target system (password policy, permissions) and retry; the user may be unable to sign in there with the password they were given.',
      },
    },
    scim: {
      meaning: "The identity provider set the user's password in iamtrail over SCIM (a PUT or PATCH that carries one, as Okta's password sync sends). iamtrail keeps only a salted hash, so it cannot tell a new password from the same one sent again, and never logs it: the Log column says \"changed: password\" and lists any other attribute changed in the same request.",
      action: 'Expected when the identity provider syncs passwords. If yours is not set up to, find out which token sent it (the Log column names it) and whether that application should have this right.',
    },
    related: ['PROVISIONING_ADD', 'DE_PROVISIONING', 'PROVISIONING_MODIFY'],
  },
  {
    code: 'USE_RESET_PASSWORD_TOKEN',
    label: 'Use Password Reset Link',
    category: 'Password',
    source: SEED,
    summary: 'Someone redeemed a single-use reset link.',
    default: {
      meaning: 'Someone opened a one-time reset link and used it to reset the password.',
      action: "Check that the link went to the user's own email address, and that a FORGOT_PASSWORD entry came before it.",
    },
    outcomes: {
      FAILURE: {
        meaning: 'A reset link was presented but not accepted (expired, already used or not valid): the password was NOT changed.',
        action: 'One failure is usually a stale link. Several, or links presented for accounts that never asked for a reset, can be someone trying stolen or guessed links.',
      },
    },
    related: ['FORGOT_PASSWORD', 'CHANGE_PASSWORD'],
    rules: ['reset-token-without-forgot'],
  },

  // ── Provisioning (seed 004; iamtrail writes the first five for SCIM requests, and PROVISIONING_RESET_PASSWORD above for a password set over SCIM) ─
  {
    code: 'PROVISIONING_ADD',
    label: 'Create Account',
    category: 'Provisioning',
    source: SEED,
    summary: 'An account (or group) was created on a managed system.',
    default: {
      meaning: 'Provisioning opened a new account for the user on one of the managed systems.',
      action: 'Make sure it was expected — a new hire or a role change that calls for this system.',
    },
    outcomes: {
      SUCCESS: {
        meaning: 'The user now has a new account on the managed system.',
        action: 'Make sure it was expected — a new hire or a role change that calls for this system.',
      },
      FAILURE: {
        meaning: 'The account could not be created on the managed system, so the user may be missing access there.',
        action: 'Look at the connector and the managed system for the cause, then retry.',
      },
    },
    scim: {
      meaning: 'The identity provider created a user or group in iamtrail over SCIM (POST). The Http column shows 201 and the Log column names the user or group and, for a group, its members.',
      action: 'Check that the identity provider was meant to assign it (a new hire, a new group in scope). A failed create is logged as SCIM_REQUEST with its 4xx/5xx status.',
    },
    related: ['RETRY_PROVISIONING', 'SCIM_REQUEST'],
    rules: ['unexpected-provisioning-add'],
  },
  {
    code: 'PROVISIONING_MODIFY',
    label: 'Update Account',
    category: 'Provisioning',
    source: SEED,
    summary: "A user's account (or a group) on a managed system was changed.",
    default: {
      meaning: "The user's account on a managed system was changed — name, department, group membership and so on.",
      action: 'Usual when a profile or a role changes; nothing to do unless the change was not expected.',
    },
    outcomes: {
      FAILURE: {
        meaning: "The change to the user's account on the managed system failed: the account there still has its old data.",
        action: 'Look at the connector and the managed system for the cause, then retry; until then the account differs from what the identity store says.',
      },
    },
    scim: {
      meaning: 'The identity provider updated a user or group in iamtrail over SCIM (PUT or PATCH). The Http column shows 200 or 204, and the Log column lists the attributes or members that changed (or says nothing changed).',
      action: 'Usually nothing to do. For group membership changes, check that groups mapped on Roles Mapping grant the roles you expect.',
    },
    related: ['ROLE_MAPPING_CHANGED', 'SCIM_REQUEST'],
  },
  {
    code: 'PROVISIONING_DISABLE',
    label: 'Disable Account',
    category: 'Provisioning',
    source: SEED,
    summary: 'An account on a managed system was switched off (not removed).',
    default: {
      meaning: "The user's account on a managed system was switched off but not removed.",
      action: 'Typical for a suspension or a leave of absence; check that one applies.',
    },
    outcomes: {
      FAILURE: {
        meaning: "Switching off the user's account on the managed system FAILED: the account is still active there.",
        action: 'Act now if the disable was part of an offboarding or a security response: disable the account by hand, then fix the connector.',
      },
    },
    scim: {
      meaning: 'The identity provider deactivated a user in iamtrail over SCIM (active set to false); the user can no longer sign in. The Http column shows 200 and the Log column names the user.',
      action: 'Typical for a leave or the first step of offboarding. Many of these in a short time may be a mis-scoped assignment in the identity provider.',
    },
    related: ['PROVISIONING_ENABLE', 'PROVISIONING_SUSPEND'],
    rules: ['scim-bulk-removal'],
  },
  {
    code: 'PROVISIONING_ENABLE',
    label: 'Enable Account',
    category: 'Provisioning',
    source: SEED,
    summary: 'A disabled account was switched back on on a managed system.',
    default: {
      meaning: "The user's previously disabled account on a managed system works again.",
      action: 'Typical when someone comes back from leave; make sure the person is not still on leave or terminated.',
    },
    outcomes: {
      FAILURE: {
        meaning: "Re-enabling the user's account on the managed system failed: the account is still disabled there.",
        action: 'Check the connector; the user may be waiting for the access.',
      },
    },
    scim: {
      meaning: 'The identity provider reactivated a user in iamtrail over SCIM (active set to true). The Http column shows 200 and the Log column names the user.',
      action: 'Check that the user is back (not on leave, not terminated).',
    },
    related: ['PROVISIONING_DISABLE'],
    rules: ['enable-on-leave-or-terminated'],
  },
  {
    code: 'PROVISIONING_DELETE',
    label: 'Delete Account',
    category: 'Provisioning',
    source: SEED,
    summary: 'An account (or group) was deleted from a managed system.',
    default: {
      meaning: "The user's account was removed for good from a managed system.",
      action: 'Expected as part of offboarding; raise it if nobody expected it.',
    },
    outcomes: {
      FAILURE: {
        meaning: "Removing the user's account from the managed system FAILED: the account still exists there, and may still work.",
        action: 'Act now if the removal was part of an offboarding: remove or disable the account by hand, then fix the connector and retry.',
      },
    },
    scim: {
      meaning: 'The identity provider deleted a user or group from iamtrail over SCIM (DELETE). The Http column shows 204 and the Log column names what was deleted.',
      action: 'Expected when someone leaves or falls out of scope. A burst of deletions that nobody planned is often a mis-scoped assignment: check with the identity provider administrator.',
    },
    related: ['DE_PROVISIONING', 'PROVISIONING_DISABLE'],
    rules: ['scim-bulk-removal'],
  },
  {
    code: 'DE_PROVISIONING',
    label: 'Remove All Access',
    category: 'Provisioning',
    source: SEED,
    summary: 'Every account of a user on every managed system was removed.',
    default: {
      meaning: "Complete offboarding: the user's access was taken away on all managed systems.",
      action: 'Make sure a termination (or a matching workflow) stands behind it.',
    },
    outcomes: {
      FAILURE: {
        meaning: "The offboarding FAILED, completely or in part: some or all of the user's access on the managed systems was NOT removed.",
        action: 'Act now if the user has left: find the systems where access remains and remove it by hand, then fix the cause. Until then, treat the user as still having access.',
      },
    },
    related: ['PROVISIONING_DELETE', 'PROVISIONING_DEPROVISION_ON_DATE'],
    rules: ['deprovisioning-without-termination'],
  },
  {
    code: 'PROVISIONING_SUSPEND',
    label: 'Suspend Account',
    category: 'Provisioning',
    source: SEED,
    summary: 'An account was suspended on a managed system.',
    default: {
      meaning: 'The account was put on hold — a milder step than deleting it.',
      action: 'Normal for a temporary deactivation.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'Suspending the account failed: the account is still usable.',
        action: 'If the suspension was meant to stop access (leave, an investigation), suspend or disable the account by hand, then fix the connector.',
      },
    },
    related: ['PROVISIONING_RESUME', 'PROVISIONING_DISABLE'],
  },
  {
    code: 'PROVISIONING_RESUME',
    label: 'Resume Account',
    category: 'Provisioning',
    source: SEED,
    summary: 'A suspended account was brought back.',
    default: {
      meaning: 'An account that had been suspended is usable again.',
      action: 'Find out why it was resumed and who did it.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'Resuming the suspended account failed: it is still on hold.',
        action: 'Check the connector; the user may be waiting for the access.',
      },
    },
    related: ['PROVISIONING_SUSPEND'],
  },
  {
    code: 'PROVISIONING_DEPROVISION_ON_DATE',
    label: 'Remove Access on End Date',
    category: 'Provisioning',
    source: SEED,
    summary: 'Access was removed automatically because its end date arrived.',
    default: {
      meaning: "The user's end date was reached, so access was taken away automatically.",
      action: 'Normal for contractors and roles with a time limit.',
    },
    outcomes: {
      FAILURE: {
        meaning: "The automatic removal at the user's end date FAILED: the access is still there after the end date.",
        action: 'Act now: remove the access by hand, then find out why the scheduled removal failed, since other end dates may fail the same way.',
      },
    },
    related: ['DE_PROVISIONING'],
  },
  {
    code: 'RETRY_PROVISIONING',
    label: 'Retry Provisioning',
    category: 'Provisioning',
    source: SEED,
    summary: 'A provisioning attempt that failed is being tried again.',
    default: {
      meaning: 'An earlier provisioning attempt did not work and the system is trying it again.',
      action: 'Look at the original failure to find the real cause; many retries mean a lasting connectivity or configuration problem.',
    },
    related: ['PROVISIONING_ADD'],
    rules: ['repeated-retry-provisioning'],
  },
  {
    code: 'SIMULATE_PROVISIONING',
    label: 'Simulate Provisioning',
    category: 'Provisioning',
    source: SEED,
    summary: 'A provisioning dry run; nothing was changed.',
    default: {
      meaning: 'An administrator previewed what provisioning would do; no account was actually touched.',
      action: 'For information only; nothing to do.',
    },
  },

  // ── Synchronization and reconciliation (seed 004) ────────────────────────────────────────────────
  {
    code: 'SYNCHRONIZATION',
    label: 'Synchronization',
    category: 'Synchronization',
    source: SEED,
    summary: 'A synchronization job pulled identities in from a source system (HR, LDAP, CSV).',
    default: {
      meaning: 'A job read identity data from a source system and imported it. It is the inbound direction: provisioning sends access out to other systems, synchronization brings identity data in.',
      action: 'Check the Outcome: a completed scheduled run needs nothing; a failed one needs a look.',
    },
    outcomes: {
      SUCCESS: {
        meaning: 'The synchronization job ran to the end.',
        action: 'A normal scheduled run; nothing to do.',
      },
      FAILURE: {
        meaning: 'The synchronization job did not finish.',
        action: 'Investigate the source and the job: while the feed is broken, users can have out-of-date data and access. Failures several days running are a red flag.',
      },
    },
    related: ['SYNCHRONIZATION_RECORD', 'SYNCHRONIZATION_ORPHAN'],
    rules: ['sync-failing-days'],
  },
  {
    code: 'SYNCHRONIZATION_RECORD',
    label: 'Synchronize Record',
    category: 'Synchronization',
    source: SEED,
    summary: 'One user record was handled during a synchronization.',
    default: {
      meaning: 'A synchronization processed one record — one user.',
      action: 'Use them to follow, record by record, what a synchronization changed for a particular user.',
    },
    related: ['SYNCHRONIZATION'],
  },
  {
    code: 'SYNCHRONIZATION_ORPHAN',
    label: 'Orphan Record Found',
    category: 'Synchronization',
    failureIsTheEvent: true,
    source: SEED,
    summary: 'A source record matched no existing user (an orphan).',
    default: {
      meaning: 'The source system has a record for which no user exists here.',
      action: 'Review it: it can be a new hire not onboarded yet, or a stale or ghost account. A large batch of them after one synchronization is a red flag.',
    },
    related: ['SYNCHRONIZATION', 'LINK_ORPHAN', 'CREATE_NEW_USER_FROM_ORPHAN', 'REMOVE_ORPHAN'],
    rules: ['orphan-volume'],
  },
  {
    code: 'LINK_ORPHAN',
    label: 'Link Orphan',
    category: 'Synchronization',
    source: SEED,
    summary: 'An orphan record was matched to an existing user and linked.',
    default: {
      meaning: 'An orphan record was attached to a user that already exists.',
      action: 'Check that the match is right: a wrong link can give someone access they should not have. Automatic links by a system account deserve a review of the matching rules.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'Attaching the orphan record to an existing user failed: the record is still unmatched.',
        action: 'Check the matching data (the record may point at the wrong user) and retry.',
      },
    },
    related: ['SYNCHRONIZATION_ORPHAN'],
    rules: ['link-orphan-by-system-account'],
  },
  {
    code: 'CREATE_NEW_USER_FROM_ORPHAN',
    label: 'Create User from Orphan',
    category: 'Synchronization',
    source: SEED,
    summary: 'A new user was created automatically from an orphan record.',
    default: {
      meaning: 'An orphan record became a new user on its own.',
      action: 'Check that the new user is correct and complete.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'Creating a user from the orphan record failed: no user was created.',
        action: "Check the record's data and the connector, then decide again whether the record should become a user.",
      },
    },
    related: ['SYNCHRONIZATION_ORPHAN'],
  },
  {
    code: 'REMOVE_ORPHAN',
    label: 'Remove Orphan',
    category: 'Synchronization',
    source: SEED,
    summary: 'An orphan record was thrown away.',
    default: {
      meaning: 'The orphan record was dropped: no user was created from it or linked to it.',
      action: 'Make sure it was not a real user removed by mistake.',
    },
    outcomes: {
      FAILURE: {
        meaning: 'Dropping the orphan record failed: it is still there.',
        action: 'Retry, and check that the record is really unwanted.',
      },
    },
    related: ['SYNCHRONIZATION_ORPHAN'],
  },
  {
    code: 'RECONCILIATION',
    label: 'Reconciliation',
    category: 'Synchronization',
    source: SEED,
    summary: 'A reconciliation job compared the identity data with a target system.',
    default: {
      meaning: 'A job compared the data held here with what a target system holds.',
      action: 'Routine maintenance; nothing to do.',
    },
    related: ['RECONCILIATION_RECORD_FALSE', 'RECONCILE_TARGET_WITH_IDM'],
  },
  {
    code: 'RECONCILIATION_RECORD_FALSE',
    label: 'Reconciliation Mismatch',
    category: 'Synchronization',
    failureIsTheEvent: true,
    source: SEED,
    summary: 'A record differed between the identity store and the target system.',
    default: {
      meaning: 'For this user, the identity store and the target system disagree: the data has drifted.',
      action: 'Review it and bring the two back in line. Mismatches for many users point to a broader cause (manual changes on the target, a failed sync).',
    },
    related: ['RECONCILIATION', 'SYNCHRONIZATION'],
    rules: ['reconciliation-drift'],
  },
  {
    code: 'RECONCILE_TARGET_WITH_IDM',
    label: 'Reconcile Target',
    category: 'Synchronization',
    source: SEED,
    summary: 'A target system was checked against the identity store as the source of truth.',
    default: {
      meaning: "The target system's data was compared with the identity store, which is taken as correct.",
      action: 'Normal during a reconciliation run; nothing to do.',
    },
    related: ['RECONCILIATION'],
  },

  // ── SCIM requests (iamtrail) ─────────────────────────────────────────────────────────────────────
  {
    code: 'SCIM_READ',
    label: 'SCIM Read',
    category: 'SCIM',
    source: OWN,
    summary: 'A SCIM request that read data: discovery, a list or search, or a single user or group.',
    default: {
      meaning: 'The identity provider read from iamtrail over SCIM — discovery (ServiceProviderConfig, Schemas, ResourceTypes), a list or filter query, or one user or group — and got 200. Nothing was changed. The Event column says which read; the Log column gives the request and what was returned.',
      action: 'Nothing to do. Identity providers read before they write (for example a filter on userName before a create), so these come in large numbers.',
    },
    related: ['SCIM_REQUEST', 'SCIM_AUTH'],
    rules: ['scim-token-expiring'],
  },
  {
    code: 'SCIM_AUTH',
    label: 'SCIM Authentication Failed',
    category: 'SCIM',
    failureIsTheEvent: true,
    source: OWN,
    summary: 'A SCIM request was refused with 401 before it reached its endpoint.',
    default: {
      meaning: 'A SCIM request was turned away with 401: the token was unknown (a wrong value pasted in the identity provider), expired or revoked, missing or malformed, not a SCIM token — or SCIM provisioning is disabled. The first line of the Log column names the cause.',
      action: 'Fix the cause named in the Log column: enable SCIM on SCIM Overview, or create a new token on Tokens and paste it into the identity provider. A wall of these means nothing is being provisioned.',
    },
    related: ['TOKEN_CREATED', 'TOKEN_REVOKED', 'SCIM_ENABLED', 'SCIM_DISABLED'],
    rules: ['scim-401-wall'],
  },
  {
    code: 'SCIM_REQUEST',
    label: 'SCIM Request Failed',
    category: 'SCIM',
    failureIsTheEvent: true,
    source: OWN,
    summary: 'A SCIM request failed with a 4xx or 5xx status and changed nothing.',
    default: {
      meaning: 'A SCIM request from the identity provider failed and nothing was applied. The Http column has the status, and the Log column the SCIM error (detail and scimType), the request and its body with secrets removed.',
      action: 'Read the error in the Log column. A 4xx is a problem with the data or the mapping in the identity provider, which will keep retrying until it is fixed there; a 5xx is a fault in iamtrail itself.',
    },
    related: ['SCIM_AUTH', 'PROVISIONING_ADD', 'PROVISIONING_MODIFY', 'PROVISIONING_DELETE'],
    rules: ['scim-repeated-failure', 'scim-5xx-spike'],
  },

  // ── Console accounts (iamtrail) ──────────────────────────────────────────────────────────────────
  {
    code: 'ACCOUNT_CREATED',
    label: 'Create Console Account',
    category: 'Console',
    source: OWN,
    summary: 'A local console account was created.',
    default: {
      meaning: 'A new local account for the iamtrail console was created, with the role named in the Log column; the Principal is who created it (cli:<user> when done with the CLI).',
      action: 'Check that the account and its role were requested. An unexpected Administrator account is serious: remove it and find out who created it.',
    },
    related: ['USER_RESET_PASSWORD_ON_BEHALF'],
  },
  {
    code: 'EVENTS_INGESTED',
    label: 'Ingest Events',
    category: 'Console',
    source: OWN,
    summary: 'A batch of audit events from another system was taken into the trail.',
    default: {
      meaning: 'Another system (an IAM platform, a script) sent a batch of its own audit events with an ingest token, and iamtrail appended them to the trail. Those events carry their own codes and are interpreted one by one.',
      action: 'Nothing to do when the sender is expected. If the sender or the token is unfamiliar, revoke the token on Tokens: ingested events land in the trail for good.',
    },
    related: ['TOKEN_CREATED'],
  },

  // ── Tokens (iamtrail) ────────────────────────────────────────────────────────────────────────────
  {
    code: 'TOKEN_CREATED',
    label: 'Create Token',
    category: 'Tokens',
    source: OWN,
    summary: 'An API token (SCIM, ingest or read) was created.',
    default: {
      meaning: 'A new bearer token was issued; the Log column gives its scope and expiry, the Principal who created it. The token value itself is never logged.',
      action: 'Check that it was planned (for example a token rotation). An unexpected SCIM token lets someone provision users: revoke it.',
    },
    related: ['TOKEN_REVOKED', 'SCIM_AUTH'],
  },
  {
    code: 'TOKEN_REVOKED',
    label: 'Revoke Token',
    category: 'Tokens',
    source: OWN,
    summary: 'An API token was revoked.',
    default: {
      meaning: 'A token was revoked: every request that still presents it now gets 401.',
      action: 'If an identity provider was still using it, expect SCIM_AUTH 401 entries until a new token is pasted into it.',
    },
    related: ['TOKEN_CREATED', 'SCIM_AUTH'],
  },

  // ── Settings (iamtrail) ──────────────────────────────────────────────────────────────────────────
  {
    code: 'SCIM_ENABLED',
    label: 'Enable SCIM',
    category: 'Settings',
    source: OWN,
    summary: 'SCIM provisioning was turned on.',
    default: {
      meaning: 'SCIM provisioning was switched on (SCIM Overview or the CLI): identity providers with a valid token can now create, change and delete users and groups.',
      action: 'Check that it was intended, then confirm the first requests land with 200/201 in the Http column.',
    },
    related: ['SCIM_DISABLED', 'SCIM_AUTH'],
  },
  {
    code: 'SCIM_DISABLED',
    label: 'Disable SCIM',
    category: 'Settings',
    source: OWN,
    summary: 'SCIM provisioning was turned off.',
    default: {
      meaning: 'SCIM provisioning was switched off: every SCIM request now gets 401 "SCIM provisioning is disabled", and provisioning from the identity provider stops.',
      action: 'Check that it was intended. If not, turn it back on; the identity provider catches up on its next cycle.',
    },
    related: ['SCIM_ENABLED', 'SCIM_AUTH'],
  },
  {
    code: 'PROVISIONING_MODE_CHANGED',
    label: 'Change Provisioning Mode',
    category: 'Settings',
    source: OWN,
    summary: 'The provisioning mode changed between SCIM and Entra ID.',
    default: {
      meaning: 'The provisioning mode was switched. SCIM and Entra ID provisioning exclude each other: in Entra ID mode SCIM requests are refused with 403 and no longer logged, so the Logs screen goes quiet.',
      action: 'Check that the switch was intended and that the identity provider was reconfigured to match.',
    },
    related: ['SCIM_ENABLED', 'SCIM_DISABLED'],
  },
  {
    code: 'ROLE_MAPPING_CHANGED',
    label: 'Change Role Mapping',
    category: 'Settings',
    source: OWN,
    summary: 'A role mapping for an identity provider group was set, changed or removed.',
    default: {
      meaning: 'The console role granted to members of an identity provider group changed; members get the new role at their next request.',
      action: 'Check that it was intended: mapping a large group to Administrator grants powerful access to everyone in it.',
    },
    related: ['PROVISIONING_MODIFY'],
  },
  {
    code: 'RULES_CHANGED',
    label: 'Change Red-Flag Rules',
    category: 'Settings',
    source: OWN,
    summary: 'The red-flag rules or their context were changed.',
    default: {
      meaning: 'A rule was switched on or off, a threshold changed, or the context the rules rely on (service accounts, business hours, maintenance windows, users on leave or terminated, expected systems) was edited on the Rules screen.',
      action: 'Check who did it and why: loosening a rule or switching it off can hide the very events it watches for.',
    },
    related: ['FLAG_ACKNOWLEDGED', 'FLAG_RESOLVED'],
  },

  // ── Red flags (iamtrail) ─────────────────────────────────────────────────────────────────────────
  {
    code: 'FLAG_ACKNOWLEDGED',
    label: 'Acknowledge Red Flag',
    category: 'Red flags',
    source: OWN,
    summary: 'Someone acknowledged a red flag: they are looking into it.',
    default: {
      meaning: 'A red flag was acknowledged: the Principal has taken it on, and the Log column holds their note. The flag is not closed until it is resolved.',
      action: 'Follow it up until it is resolved, with a note on what was found.',
    },
    related: ['FLAG_RESOLVED', 'RULES_CHANGED'],
  },
  {
    code: 'FLAG_RESOLVED',
    label: 'Resolve Red Flag',
    category: 'Red flags',
    source: OWN,
    summary: 'A red flag was closed with a note.',
    default: {
      meaning: 'A red flag was closed; the Log column holds the resolution note and the Principal who closed it.',
      action: 'For a review, check that the note explains the finding (a support ticket, a planned change). A flag closed without a reason deserves a question.',
    },
    related: ['FLAG_ACKNOWLEDGED'],
  },

  // ── Export (iamtrail) ────────────────────────────────────────────────────────────────────────────
  {
    code: 'LOG_EXPORTED',
    label: 'Export Logs',
    category: 'Export',
    source: OWN,
    summary: 'The audit log was exported from iamtrail.',
    default: {
      meaning: 'The audit log was exported (CSV or NDJSON), for example as evidence for an audit. The Principal is the console user or the read token that downloaded it; the Log column gives the format and the address.',
      action: 'Check that the export was for a legitimate purpose: audit entries name users and addresses, so exports are personal data to be handled with care.',
    },
  },
];

/** Every code of the interpretation guide (seed 004), in the order the guide first mentions it. */
export const SEED_004_CODES: readonly string[] = [
  'LOGIN',
  'INCREMENT_FAIL_AUTH_COUNT',
  'USER_ACCOUNT_LOCKED',
  'IMPERSONATION',
  'LOGIN_VIA_SOCIAL',
  'SAML_IDP_INITIATED_SSO',
  'LOGOUT',
  'CHANGE_PASSWORD',
  'FORGOT_PASSWORD',
  'ANSWER_CHALLENGE_RESPONSE_QUESTIONS',
  'USER_RESET_PASSWORD_ON_BEHALF',
  'BULK_ADMIN_USER_RESET_PASSWORD',
  'CHECK_IF_PASSWORD_WAS_COMPROMISED',
  'PROVISIONING_RESET_PASSWORD',
  'USE_RESET_PASSWORD_TOKEN',
  'PROVISIONING_ADD',
  'PROVISIONING_MODIFY',
  'PROVISIONING_DISABLE',
  'PROVISIONING_ENABLE',
  'PROVISIONING_DELETE',
  'DE_PROVISIONING',
  'PROVISIONING_SUSPEND',
  'PROVISIONING_RESUME',
  'PROVISIONING_DEPROVISION_ON_DATE',
  'RETRY_PROVISIONING',
  'SIMULATE_PROVISIONING',
  'SYNCHRONIZATION',
  'SYNCHRONIZATION_RECORD',
  'SYNCHRONIZATION_ORPHAN',
  'LINK_ORPHAN',
  'CREATE_NEW_USER_FROM_ORPHAN',
  'REMOVE_ORPHAN',
  'RECONCILIATION',
  'RECONCILIATION_RECORD_FALSE',
  'RECONCILE_TARGET_WITH_IDM',
];

/**
 * What a SCIM status means in iamtrail and what to do (seed 000's Http column guidance, made
 * specific to the errors iamtrail sends). Keys: a status, or '4xx' / '5xx' for the rest of a class.
 */
export const HTTP_GUIDANCE: Readonly<Record<string, Guidance>> = {
  '400': {
    meaning: 'Bad request (400): iamtrail could not accept the request as sent — malformed JSON, an invalid filter or PATCH path, a value of the wrong type, or an attempt to change a read-only attribute. The scimType in the Log column (invalidSyntax, invalidFilter, invalidPath, invalidValue, noTarget, mutability) says which.',
    action: 'Fix the attribute mapping or the data in the identity provider; it will send the same request again until then. The request body in the Log column shows what was sent.',
  },
  '401': {
    meaning: 'Unauthorized (401): the request was refused before it reached its endpoint — the token is unknown (a wrong value in the identity provider), expired or revoked, missing, malformed or not a SCIM token, or SCIM provisioning is disabled. The first line of the Log column names the cause.',
    action: 'Enable SCIM on SCIM Overview if it is off; otherwise create a new token on Tokens and paste it into the identity provider. Nothing is provisioned while these continue.',
  },
  '403': {
    meaning: 'Forbidden (403): this installation provisions through Microsoft Entra ID (Active Directory screen), so SCIM requests are refused.',
    action: 'If SCIM provisioning is wanted, switch the provisioning mode back to SCIM; otherwise turn off provisioning in the identity provider that still sends SCIM requests.',
  },
  '404': {
    meaning: 'Not found (404): the user or group the request names does not exist in iamtrail (deleted, or the identity provider holds a stale id), or the endpoint itself does not exist.',
    action: 'Check the path in the Log column. For a stale id, let the identity provider re-match the object (for example by clearing and re-provisioning it); for a wrong endpoint, fix the tenant or base URL it is configured with.',
  },
  '409': {
    meaning: 'Conflict (409): a user or group with the same unique value (userName, externalId or displayName) already exists, so the create or change was refused.',
    action: 'Find the existing object in iamtrail. Either delete the duplicate or make the identity provider match the existing object instead of creating a new one (matching rules, case of the userName).',
  },
  '412': {
    meaning: 'Precondition failed (412): the If-Match version the identity provider sent is not the current one — the object changed since it was last read.',
    action: 'Usually it resolves itself: the identity provider reads the object again and retries. If it keeps happening, two writers are changing the same object.',
  },
  '413': {
    meaning: 'Payload too large (413): the request body is larger than the SCIM body limit of this server (SCIM_BODY_LIMIT), typically a group with a very large membership change.',
    action: 'Have the identity provider send smaller batches, or raise SCIM_BODY_LIMIT in the server configuration.',
  },
  '415': {
    meaning: 'Unsupported media type (415): the body was not sent as application/scim+json or application/json.',
    action: "Fix the client's Content-Type header; standard identity providers do this right, so it usually points at a custom script.",
  },
  '4xx': {
    meaning: 'The request was refused with a client error: the identity provider sent something iamtrail cannot act on. The Log column has the SCIM error detail.',
    action: 'Read the detail in the Log column and correct the request or the mapping in the identity provider.',
  },
  '5xx': {
    meaning: 'Server error (5xx): iamtrail itself failed while handling the request; nothing was applied. The identity provider will retry.',
    action: "Read the Log column and the server's process log, and fix the fault (disk full, database locked) before the identity provider gives up. A cluster of these is a red flag.",
  },
};

/** The guidance for a SCIM status: the exact status, else its class; undefined below 400. */
export function httpGuidance(status: number | null | undefined): Guidance | undefined {
  if (status === null || status === undefined || !Number.isFinite(status) || status < 400) return undefined;
  const exact = HTTP_GUIDANCE[String(status)];
  if (exact) return exact;
  return status >= 500 ? HTTP_GUIDANCE['5xx'] : HTTP_GUIDANCE['4xx'];
}

const BY_CODE = new Map(CATALOG.map((e) => [e.code.toUpperCase(), e]));

/** The catalog entry of a code, matched case-insensitively (surrounding blanks ignored). */
export function catalogEntry(code: string | null | undefined): CatalogEntry | undefined {
  if (typeof code !== 'string') return undefined;
  const key = code.trim().toUpperCase();
  return key ? BY_CODE.get(key) : undefined;
}
