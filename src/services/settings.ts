// Administrative changes (tokens, SCIM on/off, provisioning mode), shared by the CLI and the console.
// Each change and its audit entry commit in one transaction.
import type { AuditEntry } from '../audit/entry.js';
import { createToken, type CreatedToken } from '../auth/tokens.js';
import type { Sqlite } from '../db/connection.js';
import type { ProvisioningMode } from '../db/settings-repository.js';
import type { TokenRecord, TokenScope } from '../db/token-repository.js';
import type { Repositories } from '../plugins/db.js';
import type { RuleContext, RulesConfig } from '../audit/rule-config.js';

export interface Actor {
  name: string;
  protocol: 'CLI' | 'WEB';
  ip?: string | null;
  userAgent?: string | null;
}

export class SettingsError extends Error {}

const MODE_LABEL: Record<ProvisioningMode, string> = { scim: 'SCIM', entra: 'Microsoft Entra ID' };

export function createSettingsService(sqlite: Sqlite, repos: Repositories, clock: () => number = Date.now) {
  function record(actor: Actor, entry: Omit<AuditEntry, 'ts' | 'protocol' | 'principal' | 'sourceIp' | 'userAgent' | 'outcome'>): void {
    const via = actor.protocol === 'CLI' ? 'with the iamtrail CLI' : `from ${actor.ip ?? 'an unknown address'}`;
    repos.audit.append({
      ...entry,
      log: `${entry.log}\nBy ${actor.name} ${via}${actor.userAgent ? ` · user agent "${actor.userAgent}"` : ''}`,
      ts: clock(),
      protocol: actor.protocol,
      outcome: 'SUCCESS',
      principal: actor.name,
      sourceIp: actor.ip ?? null,
      userAgent: actor.userAgent ?? null,
    });
  }

  const describeExpiry = (t: TokenRecord) => (t.expiresAt ? `expires ${new Date(t.expiresAt).toISOString()}` : 'never expires');

  return {
    createToken(input: { name: string; scope?: TokenScope; expiresInDays?: number | null }, actor: Actor): CreatedToken {
      return sqlite.transaction(() => {
        const created = createToken(repos.tokens, { ...input, createdBy: actor.name }, clock());
        const t = created.record;
        record(actor, {
          type: 'Token',
          event: 'Create Token',
          log: `Created ${t.scope} token "${t.name}" (${describeExpiry(t)})`,
          action: 'TOKEN_CREATED',
          target: t.name,
          resourceId: `token:${t.id}`,
        });
        return created;
      })();
    },

    revokeToken(name: string, actor: Actor): TokenRecord {
      return sqlite.transaction(() => {
        const t = repos.tokens.byName(name);
        if (!t) throw new SettingsError(`No token named "${name}"`);
        if (t.revokedAt !== null) throw new SettingsError(`Token "${t.name}" is already revoked`);
        repos.tokens.revoke(t.id, clock());
        record(actor, {
          type: 'Token',
          event: 'Revoke Token',
          log: `Revoked ${t.scope} token "${t.name}": requests that present it now get 401`,
          action: 'TOKEN_REVOKED',
          target: t.name,
          resourceId: `token:${t.id}`,
        });
        return repos.tokens.byName(name)!;
      })();
    },

    setScimEnabled(enabled: boolean, actor: Actor): boolean {
      return sqlite.transaction(() => {
        const was = repos.settings.scimEnabled();
        if (was === enabled) return false;
        repos.settings.set('scim_enabled', String(enabled));
        record(actor, {
          type: 'Settings',
          event: enabled ? 'Enable SCIM' : 'Disable SCIM',
          log: enabled
            ? 'Enabled SCIM provisioning: identity providers with a valid token can now provision users and groups'
            : 'Disabled SCIM provisioning: every SCIM request now gets 401 "SCIM provisioning is disabled"',
          action: enabled ? 'SCIM_ENABLED' : 'SCIM_DISABLED',
          target: 'SCIM',
        });
        return true;
      })();
    },

    /** Roles Mapping: members of an IdP group get a role; roleId null removes the mapping. */
    setRoleMapping(groupId: string, roleId: number | null, actor: Actor): boolean {
      return sqlite.transaction(() => {
        const group = repos.groups.byId(groupId);
        if (!group) throw new SettingsError('That group no longer exists: it may have been deleted by the identity provider');
        const current = repos.accounts.roleMappings().find((m) => m.groupId === groupId);
        const role = roleId === null ? null : repos.accounts.roles().find((r) => r.id === roleId);
        if (roleId !== null && !role) throw new SettingsError('No such role');
        if ((current?.roleId ?? null) === roleId) return false;
        if (role) repos.accounts.setRoleMapping(groupId, role.id, clock());
        else repos.accounts.removeRoleMapping(groupId);
        record(actor, {
          type: 'Settings',
          event: 'Change Role Mapping',
          log: role
            ? `Mapped the IdP group "${group.displayName}" to the role ${role.name}${current?.roleName ? ` (was ${current.roleName})` : ''}: its members get the role at their next request`
            : `Removed the role mapping of the IdP group "${group.displayName}" (was ${current?.roleName ?? 'none'})`,
          action: 'ROLE_MAPPING_CHANGED',
          target: group.displayName,
          resourceId: group.id,
        });
        return true;
      })();
    },

    /** Acknowledge or resolve a red flag with a note; the decision is itself an audit entry. */
    closeFlag(id: number, status: 'acknowledged' | 'resolved', note: string, actor: Actor): void {
      sqlite.transaction(() => {
        const flag = repos.flags.byId(id);
        if (!flag) throw new SettingsError('No such red flag');
        if (flag.status === 'resolved') throw new SettingsError('This red flag is already resolved');
        if (flag.status === status) throw new SettingsError(`This red flag is already ${status}`);
        // the note goes into the trail and onto pages: no NUL or other control characters (tab and
        // line breaks stay)
        const text = note.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
        if (!text) throw new SettingsError('Say what you found or did: a note is required');
        repos.flags.close(id, status, actor.name, text.slice(0, 4000), clock());
        record(actor, {
          type: 'Red flag',
          event: status === 'resolved' ? 'Resolve Red Flag' : 'Acknowledge Red Flag',
          log: `${status === 'resolved' ? 'Resolved' : 'Acknowledged'} red flag #${flag.id} "${flag.title}" (${flag.rule})\nNote: ${text.slice(0, 4000)}`,
          action: status === 'resolved' ? 'FLAG_RESOLVED' : 'FLAG_ACKNOWLEDGED',
          target: flag.subject,
          resourceId: `flag:${flag.id}`,
        });
      })();
    },

    /** Rule thresholds, enabled state and context from the Rules screen. */
    saveRules(config: RulesConfig, context: RuleContext, actor: Actor, summary: string): void {
      sqlite.transaction(() => {
        repos.rules.saveConfig(config);
        repos.rules.saveContext(context);
        record(actor, { type: 'Settings', event: 'Change Red-Flag Rules', log: `Changed the red-flag rules: ${summary}`, action: 'RULES_CHANGED', target: 'Red-flag rules' });
      })();
    },

    setProvisioningMode(mode: ProvisioningMode, actor: Actor): boolean {
      return sqlite.transaction(() => {
        const was = repos.settings.provisioningMode();
        if (was === mode) return false;
        repos.settings.set('provisioning_mode', mode);
        record(actor, {
          type: 'Settings',
          event: 'Change Provisioning Mode',
          log: `Changed the provisioning mode from ${MODE_LABEL[was]} to ${MODE_LABEL[mode]}${mode === 'entra' ? ': SCIM requests are now refused with 403 and not logged' : ''}`,
          action: 'PROVISIONING_MODE_CHANGED',
          target: 'Provisioning mode',
        });
        return true;
      })();
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
