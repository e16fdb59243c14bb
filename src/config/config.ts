/**
 * The one place that reads `process.env`. Parsed once with zod, frozen, and
 * passed down. An invalid value stops the process with one line naming the
 * variable.
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';

/** What Express's `trust proxy` (proxy-addr) takes in a list: a name for a range, an address, or address/bits. */
function isProxyAddress(item: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
  const [address, bits, extra] = item.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)) || (family === 4 && isIP(bits) === 4);
}

function trustProxyValue(value: string): string | number | boolean {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

const port = z.coerce.number().int().min(0).max(65535);
const perMinute = z.coerce.number().int().min(0);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalString.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres://').optional()),
  REDIS_URL: optionalString.pipe(z.string().regex(/^rediss?:\/\//, 'must start with redis://').optional()),
  DATA_DIR: z.string().default('./data'),
  AT_USERNAME: optionalString,
  AT_API_KEY: optionalString,
  AT_SENDER_ID: optionalString,
  WEBHOOK_SECRET: optionalString.pipe(z.string().min(22, 'must be at least 22 characters (e.g. openssl rand -hex 16)').optional()),
  USSD_SERVICE_CODES: optionalString,
  PHONE_HASH_KEY: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  DATA_ENCRYPTION_KEY: optionalString.pipe(
    z.string().regex(/^[0-9a-fA-F]{64}$|^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes, as 64 hex digits or base64').optional(),
  ),
  FLOWS_DIR: z.string().default('./flows'),
  LOCALES_DIR: z.string().default('./locales'),
  DEFAULT_LANGUAGE: z.enum(['fr', 'bm']).default('fr'),
  BAMBARA_SPELLING: z.enum(['standard', 'gsm7']).default('standard'),
  USSD_MAX_CHARS_GSM7: z.coerce.number().int().min(40).max(182).default(182),
  USSD_MAX_CHARS_UCS2: z.coerce.number().int().min(20).max(91).default(80),
  RATE_LIMIT_PER_PHONE: perMinute.default(30),
  RATE_LIMIT_PER_IP: perMinute.default(0),
  SESSION_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  PHONE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  RESUME_WINDOW_SECONDS: z.coerce.number().int().min(0).max(86400).default(600),
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .refine(
      (v) => /^(true|false|\d+)$/.test(v.trim()) || v.split(',').every((part) => isProxyAddress(part.trim())),
      'loopback, linklocal, uniquelocal, addresses or CIDR ranges (comma-separated), a hop count, true or false',
    ),
  METRICS_TOKEN: optionalString.pipe(z.string().min(22, 'must be at least 22 characters (e.g. openssl rand -hex 16)').optional()),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_:.-]{1,40}$/, 'letters, digits and _ : . - only').default('kalata:'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

/** Every variable the config reads (docker-compose.yml must pass each tunable one: test/unit/deploy-files.test.ts). */
export const SETTINGS: readonly string[] = Object.freeze(Object.keys(envSchema.shape));

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly dataDir: string;
  readonly at?: { readonly username: string; readonly apiKey: string; readonly senderId?: string };
  readonly webhookSecret?: string;
  /** empty: any service code */
  readonly serviceCodes: readonly string[];
  readonly phoneHashKey?: string;
  readonly dataEncryptionKey?: string;
  readonly flowsDir: string;
  readonly localesDir: string;
  readonly defaultLanguage: 'fr' | 'bm';
  readonly bambaraSpelling: 'standard' | 'gsm7';
  readonly limits: { readonly gsm7: number; readonly ucs2: number };
  readonly rateLimitPerPhone: number;
  readonly rateLimitPerIp: number;
  readonly sessionTtlSeconds: number;
  /** encrypted numbers are deleted this many days after their report or SMS */
  readonly phoneRetentionDays: number;
  /** how long a dropped call can be continued; 0: never */
  readonly resumeWindowSeconds: number;
  readonly logLevel: Env['LOG_LEVEL'];
  /** prefix of every Redis key (sessions, locks, queue), so deployments can share a server */
  readonly redisPrefix: string;
  /** Express's `trust proxy`: which proxies' X-Forwarded-For to believe (loopback, a CIDR list, or a hop count) */
  readonly trustProxy: string | number | boolean;
  /** bearer token for `/metrics` in production (otherwise only a loopback peer may scrape) */
  readonly metricsToken?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Fewer distinct characters than this cannot be a random secret of the lengths required here. */
const MIN_DISTINCT_CHARACTERS = 8;
/** Words of the placeholders people paste from examples. */
const PLACEHOLDER = /changeme|change-me|change_me|example|secret|password|placeholder|replace|your[-_]?key|xxxxxx/i;

/**
 * Why a secret is obviously not random (undefined when it may be): one
 * character repeated (all zeros), a short pattern repeated, too few distinct
 * characters, or a placeholder word. Random keys of 32+ characters never are.
 *
 * @example
 * weakSecret('0'.repeat(64)); // 'one character repeated'
 */
export function weakSecret(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const distinct = new Set(value).size;
  if (distinct === 1) return 'one character repeated';
  for (let period = 2; period <= value.length / 2; period++) {
    if (value.length % period === 0 && value.slice(0, period).repeat(value.length / period) === value) return `a pattern of ${period} characters repeated`;
  }
  if (distinct < MIN_DISTINCT_CHARACTERS) return `only ${distinct} distinct characters`;
  if (PLACEHOLDER.test(value)) return 'a placeholder word in it';
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parses the environment into a frozen config.
 *
 * @example
 * const config = loadConfig({ ...process.env, PORT: '8080' });
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    // Secrets and URLs (which may hold a password) are never echoed.
    const shown = /SECRET|KEY|PASSWORD|URL/.test(name) ? '' : `=${JSON.stringify(source[name] ?? '')}`;
    throw new ConfigError(`invalid ${name}${shown}: ${issue.message}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if ((e.AT_USERNAME === undefined) !== (e.AT_API_KEY === undefined)) {
    throw new ConfigError('invalid AT_USERNAME/AT_API_KEY: set both for Africa\'s Talking, or neither for the dry-run SMS transport');
  }
  if (production) {
    for (const name of ['WEBHOOK_SECRET', 'PHONE_HASH_KEY', 'DATA_ENCRYPTION_KEY'] as const) {
      if (!e[name]) throw new ConfigError(`missing ${name}: required when NODE_ENV=production`);
    }
    for (const name of ['PHONE_HASH_KEY', 'DATA_ENCRYPTION_KEY', 'WEBHOOK_SECRET', 'METRICS_TOKEN'] as const) {
      const weakness = weakSecret(e[name]);
      if (!weakness) continue;
      const move = name === 'PHONE_HASH_KEY' || name === 'DATA_ENCRYPTION_KEY' ? `; to move existing data to a new key: OLD_${name}=<this key> ${name}=<new key> npm run keys -- rotate` : '';
      throw new ConfigError(`weak ${name}: ${weakness}, not a random value; in production use one such as $(openssl rand -hex 32)${move}`);
    }
  }
  const config: Config = {
    env: e.NODE_ENV,
    production,
    port: e.PORT,
    host: e.HOST,
    ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
    ...(e.REDIS_URL ? { redisUrl: e.REDIS_URL } : {}),
    dataDir: resolve(e.DATA_DIR),
    ...(e.AT_USERNAME && e.AT_API_KEY
      ? { at: { username: e.AT_USERNAME, apiKey: e.AT_API_KEY, ...(e.AT_SENDER_ID ? { senderId: e.AT_SENDER_ID } : {}) } }
      : {}),
    ...(e.WEBHOOK_SECRET ? { webhookSecret: e.WEBHOOK_SECRET } : {}),
    serviceCodes: (e.USSD_SERVICE_CODES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    ...(e.PHONE_HASH_KEY ? { phoneHashKey: e.PHONE_HASH_KEY } : {}),
    ...(e.DATA_ENCRYPTION_KEY ? { dataEncryptionKey: e.DATA_ENCRYPTION_KEY } : {}),
    flowsDir: resolve(e.FLOWS_DIR),
    localesDir: resolve(e.LOCALES_DIR),
    defaultLanguage: e.DEFAULT_LANGUAGE,
    bambaraSpelling: e.BAMBARA_SPELLING,
    limits: { gsm7: e.USSD_MAX_CHARS_GSM7, ucs2: e.USSD_MAX_CHARS_UCS2 },
    rateLimitPerPhone: e.RATE_LIMIT_PER_PHONE,
    rateLimitPerIp: e.RATE_LIMIT_PER_IP,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    resumeWindowSeconds: e.RESUME_WINDOW_SECONDS,
    phoneRetentionDays: e.PHONE_RETENTION_DAYS,
    logLevel: e.LOG_LEVEL,
    redisPrefix: e.REDIS_PREFIX,
    trustProxy: trustProxyValue(e.TRUST_PROXY.trim()),
    ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}),
  };
  return deepFreeze(config);
}

/** The keys the data is under now, for `npm run keys -- rotate` (the new ones are the configured ones). */
export interface OldKeys {
  readonly phoneHashKey?: string;
  readonly dataEncryptionKey?: string;
}

const oldKeysSchema = z.object({
  OLD_PHONE_HASH_KEY: envSchema.shape.PHONE_HASH_KEY,
  OLD_DATA_ENCRYPTION_KEY: envSchema.shape.DATA_ENCRYPTION_KEY,
});

/**
 * Reads OLD_PHONE_HASH_KEY and OLD_DATA_ENCRYPTION_KEY. Checked for their
 * form only: a weak old key is exactly what one rotates away from.
 *
 * @example
 * const old = loadOldKeys(); // { phoneHashKey: '…' } when OLD_PHONE_HASH_KEY is set
 */
export function loadOldKeys(source: Record<string, string | undefined> = process.env): OldKeys {
  const parsed = oldKeysSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  return Object.freeze({
    ...(e.OLD_PHONE_HASH_KEY ? { phoneHashKey: e.OLD_PHONE_HASH_KEY } : {}),
    ...(e.OLD_DATA_ENCRYPTION_KEY ? { dataEncryptionKey: e.OLD_DATA_ENCRYPTION_KEY } : {}),
  });
}
