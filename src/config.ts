// The environment, described by one schema, read once at start-up and passed in; nothing else
// reads process.env.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const LogLevel = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)));

export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  DATABASE_PATH: Type.String({ minLength: 1, default: './data/iamtrail.sqlite' }),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  LOG_LEVEL: Type.Unsafe<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>({ ...LogLevel, default: 'info' }),
  TZ: Type.String({ minLength: 1, default: 'UTC' }),
  TRUST_PROXY: Type.Boolean({ default: false }),
  DURABLE_READS: Type.Boolean({ default: false }),
  SCIM_BODY_LIMIT: Type.Integer({ minimum: 1024, default: 1048576 }),
  SESSION_IDLE_MINUTES: Type.Integer({ minimum: 1, default: 30 }),
  SESSION_MAX_HOURS: Type.Integer({ minimum: 1, default: 8 }),
  LOCKOUT_THRESHOLD: Type.Integer({ minimum: 1, default: 5 }),
  LOCKOUT_WINDOW_MINUTES: Type.Integer({ minimum: 1, default: 15 }),
  LOCKOUT_MINUTES: Type.Integer({ minimum: 1, default: 15 }),
});

export type RawConfig = Static<typeof ConfigSchema>;

export interface Config extends RawConfig {
  /** PUBLIC_URL without a trailing slash, or undefined: then URLs are built from the request's Host */
  publicUrl: string | undefined;
}

export class ConfigError extends Error {}

/** Validates an environment-like record; numbers arrive as strings and are converted. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, picked));
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length > 0) {
    const lines = errors.map((e) => `${e.path.slice(1) || '(root)'}: ${e.message} (got ${JSON.stringify(e.value)})`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const raw = withDefaults as RawConfig;
  if (!isValidTimeZone(raw.TZ)) throw new ConfigError(`Invalid configuration:\n  TZ: unknown time zone "${raw.TZ}"`);
  return { ...raw, publicUrl: raw.PUBLIC_URL?.replace(/\/+$/, '') };
}

/** An IANA time zone name that this Node's Intl knows (TZ, and the Rules screen's business hours). */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
