// Evaluates the red-flag rules on each entry as it is appended, inside the appending transaction,
// and raises or extends flags. Rule settings and context are cached for a second (the Rules screen
// and the CLI may change them from another process).
import type { Sqlite } from '../db/connection.js';
import type { FlagRepository } from '../db/flag-repository.js';
import type { SettingsRepository } from '../db/settings-repository.js';
import type { StoredAuditEntry } from './entry.js';
import { defaultContext, parseContext, type RuleContext, type RulesConfig } from './rule-config.js';
import { createRuleQueries } from './rule-queries.js';
import { RULES, lackingContext, missingContext, type ContextNeed, type Rule } from './rules.js';

const CONFIG_KEY = 'rules_config';
const CONTEXT_KEY = 'rules_context';

export interface RuleStatus {
  rule: Rule;
  enabled: boolean;
  thresholds: Record<string, number>;
  /** why the rule cannot judge, when its context is missing: it then raises nothing */
  lacking: string | null;
  /** the pieces of context it lacks (empty when it can judge) */
  missingContext: ContextNeed[];
}

/** What a rule is and whether it runs: the fields the Rules screen and the JSON catalog both show. */
export function describeRule(s: RuleStatus) {
  const { rule } = s;
  return {
    id: rule.id,
    name: rule.name,
    severity: rule.severity,
    source: rule.source,
    description: rule.description,
    action: rule.action,
    enabled: s.enabled,
    lacking: s.lacking,
    missingContext: s.missingContext,
  };
}

export function createRuleEngine(deps: {
  sqlite: Sqlite;
  settings: SettingsRepository;
  flags: FlagRepository;
  timeZone: string;
  clock?: () => number;
  onError?: (rule: string, error: unknown) => void;
}) {
  const { settings, flags, timeZone } = deps;
  const clock = deps.clock ?? Date.now;
  const q = createRuleQueries(deps.sqlite);
  const byAction = new Map<string, Rule[]>();
  for (const rule of RULES) for (const code of rule.on) byAction.set(code, [...(byAction.get(code) ?? []), rule]);
  const everyEntry = byAction.get('*') ?? [];

  /** per action code: the rules that listen to it, with their current status (computed per load) */
  type Active = { rule: Rule; thresholds: Record<string, number> };
  let cached: { config: RulesConfig; context: RuleContext; at: number; active: Map<string, Active[]> } | undefined;

  function activeRules(config: RulesConfig, context: RuleContext): Map<string, Active[]> {
    const usable = (rule: Rule): Active | null => {
      const s = status(rule, config, context);
      return s.enabled && !s.lacking ? { rule, thresholds: s.thresholds } : null;
    };
    const all = new Map<string, Active[]>();
    const every = everyEntry.map(usable).filter((a): a is Active => a !== null);
    all.set('*', every);
    for (const [code, rules] of byAction) {
      if (code === '*') continue;
      all.set(code, [...rules.map(usable).filter((a): a is Active => a !== null), ...every]);
    }
    return all;
  }

  function load() {
    const now = Date.now();
    if (!cached || now - cached.at > 1000) {
      const parse = (key: string) => {
        const raw = settings.get(key);
        try {
          return raw ? (JSON.parse(raw) as unknown) : undefined;
        } catch {
          return undefined;
        }
      };
      const config = (parse(CONFIG_KEY) as RulesConfig | undefined) ?? {};
      const context = parseContext(parse(CONTEXT_KEY), timeZone);
      cached = { config, context, at: now, active: activeRules(config, context) };
    }
    return cached;
  }

  function status(rule: Rule, config: RulesConfig, context: RuleContext): RuleStatus {
    const own = config[rule.id] ?? {};
    const thresholds: Record<string, number> = {};
    for (const [name, t] of Object.entries(rule.thresholds)) {
      const v = own.thresholds?.[name];
      // a value saved before the bound existed (or written by hand) is held to it
      thresholds[name] = typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(v, t.max) : t.default;
    }
    return { rule, enabled: own.enabled !== false, thresholds, lacking: lackingContext(rule, context), missingContext: missingContext(rule, context) };
  }

  return {
    /** Runs the rules that listen to this entry's action; returns the ids of the flags raised or extended. */
    evaluate(entry: StoredAuditEntry): number[] {
      if (entry.ts === null) return [];
      const { context, active } = load();
      const rules = (entry.action ? active.get(entry.action) : undefined) ?? active.get('*')!;
      const raised: number[] = [];
      for (const { rule, thresholds } of rules) {
        try {
          const finding = rule.evaluate({ entry: entry as StoredAuditEntry & { ts: number }, q, t: thresholds, context });
          if (!finding) continue;
          raised.push(
            flags.raise({
              rule: rule.id,
              subject: finding.subject,
              severity: finding.severity ?? rule.severity,
              title: finding.title,
              explanation: finding.explanation,
              action: rule.action,
              entryId: entry.id,
              related: finding.related,
              now: clock(),
            }),
          );
        } catch (error) {
          // a faulty rule must never lose the entry it looks at
          (deps.onError ?? ((id, e) => console.error(`red-flag rule ${id} failed`, e)))(rule.id, error);
        }
      }
      return raised;
    },

    /** after a rollback: counts kept from entries that were undone are dropped (see countReconciliationUsers) */
    forget(): void {
      q.forget();
    },

    statuses(): RuleStatus[] {
      const { config, context } = load();
      return RULES.map((rule) => status(rule, config, context));
    },

    context(): RuleContext {
      return load().context;
    },

    config(): RulesConfig {
      return load().config;
    },

    saveConfig(config: RulesConfig): void {
      settings.set(CONFIG_KEY, JSON.stringify(config));
      cached = undefined;
    },

    saveContext(context: RuleContext): void {
      settings.set(CONTEXT_KEY, JSON.stringify(context));
      cached = undefined;
    },

    defaultContext: () => defaultContext(timeZone),
  };
}

export type RuleEngine = ReturnType<typeof createRuleEngine>;
