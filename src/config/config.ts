/**
 * The one place that reads `process.env`. Parsed once with zod, frozen, and
 * passed down. An invalid value stops the process with one line naming the
 * variable.
 */
import type { TextForm } from '../i18n/text-form.js';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { getSupportedRegionCodes } from 'awesome-phonenumber';
import { z } from 'zod';
import { LANGUAGE_CODE } from '../i18n/languages.js';
import { postgresHosts } from '../store/postgres-hosts.js';
import type { RedisTarget } from '../store/redis-connection.js';

/** What Express's `trust proxy` (proxy-addr) takes in a list: a name for a range, an address, or address/bits. */
function isProxyAddress(item: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(item)) return true;
  const [address, bits, extra] = item.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)) || (family === 4 && isIP(bits) === 4);
}

/** Whether this Node knows the IANA zone (`Africa/Bamako`): a zone it does not know would show times wrongly. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
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

// SMS through an SMPP 3.4 server (issue 14 §3): an operator's or aggregator's SMSC instead of
// Africa's Talking, chosen by SMS_TRANSPORT. Self-contained: schema, settings type and parser.
const optionalInt = (least: number, most: number) =>
  optionalString.transform((v) => (v === undefined ? undefined : Number(v))).pipe(z.number().int().min(least).max(most).optional());
const SMPP_ENV = {
  SMS_TRANSPORT: z.enum(['africastalking', 'smpp']).default('africastalking'),
  /** `smpp://host:port`, the older spelling of SMPP_HOST and SMPP_PORT (CONTRACT.md) */
  SMPP_URL: optionalString.pipe(z.string().regex(/^smpp:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, 'must be smpp://host:port').optional()),
  SMPP_HOST: optionalString.pipe(z.string().regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or an address').optional()),
  SMPP_PORT: optionalInt(1, 65535),
  SMPP_SYSTEM_ID: optionalString.pipe(z.string().max(15, 'at most 15 characters (SMPP 3.4)').optional()),
  SMPP_PASSWORD: optionalString,
  SMPP_SYSTEM_TYPE: optionalString.pipe(z.string().max(12, 'at most 12 characters (SMPP 3.4)').optional()),
  SMPP_SOURCE_ADDR: optionalString.pipe(z.string().max(20, 'at most 20 characters (SMPP 3.4)').optional()),
  SMPP_SOURCE_TON: optionalInt(0, 6),
  SMPP_SOURCE_NPI: optionalInt(0, 18),
  SMPP_THROUGHPUT: z.coerce.number().min(0).max(10_000).default(10),
  SMPP_WINDOW: z.coerce.number().int().min(1).max(1000).default(10),
  SMPP_ENQUIRE_LINK_SECONDS: z.coerce.number().int().min(5).max(3600).default(30),
};

export interface SmppSettings {
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly systemType?: string;
  readonly sourceAddr: string;
  readonly sourceTon: number;
  readonly sourceNpi: number;
  /** submit_sm a second; 0: no limit */
  readonly throughput: number;
  /** submit_sm awaiting their answer at once */
  readonly window: number;
  readonly enquireLinkSeconds: number;
}

/** The SMPP settings when SMS_TRANSPORT=smpp; one clear line for what is missing. */
function smppSettings(e: z.infer<z.ZodObject<typeof SMPP_ENV>>): SmppSettings | undefined {
  if (e.SMS_TRANSPORT !== 'smpp') return undefined;
  const url = e.SMPP_URL ? /^smpp:\/\/([^/:]+)(?::(\d+))?/.exec(e.SMPP_URL) : undefined;
  const host = e.SMPP_HOST ?? url?.[1];
  if (!host) throw new ConfigError('missing SMPP_HOST: required when SMS_TRANSPORT=smpp (or SMPP_URL=smpp://host:port)');
  for (const name of ['SMPP_SYSTEM_ID', 'SMPP_PASSWORD', 'SMPP_SOURCE_ADDR'] as const) {
    if (!e[name]) throw new ConfigError(`missing ${name}: required when SMS_TRANSPORT=smpp`);
  }
  const source = e.SMPP_SOURCE_ADDR!;
  // Defaults by the address's form: a sender name is alphanumeric (5/0), +223... international (1/1), a short code unknown/ISDN (0/1).
  const alphanumeric = /[^+\d]/.test(source);
  const international = source.startsWith('+') || source.length >= 10;
  return {
    host,
    port: e.SMPP_PORT ?? (url?.[2] ? Number(url[2]) : 2775),
    systemId: e.SMPP_SYSTEM_ID!,
    password: e.SMPP_PASSWORD!,
    ...(e.SMPP_SYSTEM_TYPE ? { systemType: e.SMPP_SYSTEM_TYPE } : {}),
    sourceAddr: alphanumeric ? source : source.replace(/^\+/, ''),
    sourceTon: e.SMPP_SOURCE_TON ?? (alphanumeric ? 5 : international ? 1 : 0),
    sourceNpi: e.SMPP_SOURCE_NPI ?? (alphanumeric ? 0 : 1),
    throughput: e.SMPP_THROUGHPUT,
    window: e.SMPP_WINDOW,
    enquireLinkSeconds: e.SMPP_ENQUIRE_LINK_SECONDS,
  };
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalString.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres://').optional()),
  // A standby for the console's long reads (the calls list, analytics), where a few seconds of lag do no harm; never the triage actions.
  DATABASE_READ_URL: optionalString.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres://').optional()),
  REDIS_URL: optionalString.pipe(z.string().regex(/^rediss?:\/\//, 'must start with redis://').optional()),
  // Redis through Sentinel (store/redis-connection.ts), instead of REDIS_URL: the Sentinels, the group's name, credentials, TLS.
  REDIS_SENTINELS: optionalString.pipe(
    z.string().regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, 'host:port of each Sentinel, comma-separated (10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379)').optional(),
  ),
  REDIS_SENTINEL_NAME: optionalString.pipe(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'the name of `sentinel monitor <name>`: letters, digits and _ . -').optional()),
  REDIS_SENTINEL_PASSWORD: optionalString,
  REDIS_USERNAME: optionalString,
  REDIS_PASSWORD: optionalString,
  REDIS_TLS: z.enum(['true', 'false', '']).default('').transform((v) => v === 'true'),
  // Replicas a saved session and a spooled turn wait for (WAIT, at most 100 ms) before the caller is answered. Default: 1 with Sentinel, 0 without.
  REDIS_WAIT_REPLICAS: z.string().trim().default('').refine((v) => /^\d?$/.test(v), 'a number of replicas, 0 to 9').transform((v) => (v === '' ? undefined : Number(v))),
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
  // A code of flows/languages.yaml (checked against the content at start-up).
  DEFAULT_LANGUAGE: z.string().trim().regex(LANGUAGE_CODE, 'a language code of flows/languages.yaml, such as fr or bm').default('fr'),
  // Unset or empty: Mali.
  DEFAULT_COUNTRY: optionalString
    .transform((v) => (v ?? 'ML').toUpperCase())
    .refine((v) => /^[A-Z]{2}$/.test(v) && getSupportedRegionCodes().includes(v), 'must be a two-letter region code of the phone-number library, e.g. ML'),
  // `standard`, or a spelling of flows/languages.yaml (gsm7: Bambara's è ò ny ng), checked against the content.
  BAMBARA_SPELLING: z.string().trim().regex(/^[a-z][a-z0-9_]{0,19}$/, 'standard, or a spelling of flows/languages.yaml such as gsm7').default('standard'),
  // The form each gateway shows text in (src/i18n/text-form.ts). Hubtel's docs ask for no special characters, even É.
  AT_TEXT_FORM: z.enum(['as_written', 'gsm7', 'ascii']).default('as_written'),
  HUBTEL_TEXT_FORM: z.enum(['as_written', 'gsm7', 'ascii']).default('ascii'),
  USSD_MAX_CHARS_GSM7: z.coerce.number().int().min(40).max(182).default(182),
  USSD_MAX_CHARS_UCS2: z.coerce.number().int().min(20).max(91).default(80),
  RATE_LIMIT_PER_PHONE: perMinute.default(30),
  RATE_LIMIT_PER_IP: perMinute.default(0),
  SESSION_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  // Web processes `npm run start:web` runs (node:cluster, one port); several need DATABASE_URL and REDIS_URL.
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  // Load shedding per web process (runtime/call-runtime.ts): turns served at once; above half, a new call gets the apology at once, above all, any turn. 0: no limit.
  MAX_TURNS_IN_FLIGHT: z.coerce.number().int().min(0).max(100_000).default(512),
  PHONE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  RESUME_WINDOW_SECONDS: z.coerce.number().int().min(0).max(86400).default(600),
  // A call-back request nobody has claimed after this many minutes is flagged late in the console.
  CALLBACK_ANSWER_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(30),
  // The zone the console shows times in (an IANA name): refused at start-up when Node does not know it.
  CONSOLE_TIME_ZONE: z
    .string()
    .trim()
    .default('')
    .transform((zone) => zone || 'Africa/Bamako')
    .refine((zone) => isTimeZone(zone), 'an IANA time zone name, such as Africa/Bamako or Europe/Paris'),
  // The voice line: the languages AT's text-to-speech reads (`Say`), where no recording exists; its voice.
  VOICE_TTS_LANGUAGES: z
    .string()
    .default('fr')
    .refine((v) => v.split(',').every((code) => !code.trim() || /^[a-z]{2,3}$/.test(code.trim())), 'language codes, comma-separated (fr), or empty for none'),
  VOICE_SAY_VOICE: z.enum(['woman', 'man']).default('woman'),
  // Missed calls ("bip") to these hotline numbers are rejected (free for the caller) and called back.
  VOICE_CALLBACK_NUMBERS: z
    .string()
    .default('')
    .refine((v) => v.split(',').every((n) => !n.trim() || /^\+\d{6,15}$/.test(n.trim())), 'hotline numbers in E.164 (+22320200000), comma-separated'),
  VOICE_CALLBACKS_PER_HOUR: z.coerce.number().int().min(1).max(60).default(3),
  // Hosts the console may fetch callers' recordings from although they are private addresses (a gateway on a private network).
  VOICE_RECORDING_HOSTS: z.string().default(''),
  // The address the gateways reach this server at (https://kalata.example.org): the voice line's callback and
  // prompt URLs start with it. Unset: the address of each request (behind a proxy: set TRUST_PROXY).
  PUBLIC_URL: optionalString.pipe(z.string().regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'an http(s) address, such as https://kalata.example.org').optional()),
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
  ...SMPP_ENV,
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
  /** the console's long reads (calls list, analytics) go there when set */
  readonly databaseReadUrl?: string;
  /** absent: a private redis-server (the embedded default) */
  readonly redis?: RedisTarget;
  /** replicas a saved session and a spooled turn wait for (store/redis-connection.ts) */
  readonly redisWaitReplicas: number;
  readonly dataDir: string;
  readonly at?: { readonly username: string; readonly apiKey: string; readonly senderId?: string };
  readonly webhookSecret?: string;
  /** empty: any service code */
  readonly serviceCodes: readonly string[];
  readonly phoneHashKey?: string;
  readonly dataEncryptionKey?: string;
  readonly flowsDir: string;
  readonly localesDir: string;
  /** the language a caller starts in before choosing (a code of flows/languages.yaml) */
  readonly defaultLanguage: string;
  /** the region a number without `+` or `00` is read in first (see src/channels/phone-number.ts) */
  readonly defaultCountry: string;
  /** the spelling callers read: `standard`, or a spelling of flows/languages.yaml, for every language that has it */
  readonly bambaraSpelling: string;
  /** the form each USSD gateway shows text in */
  readonly textForms: { readonly africastalking: TextForm; readonly hubtel: TextForm };
  readonly limits: { readonly gsm7: number; readonly ucs2: number };
  readonly rateLimitPerPhone: number;
  readonly rateLimitPerIp: number;
  readonly sessionTtlSeconds: number;
  /** WEB_CONCURRENCY: web processes on one port (node:cluster) */
  readonly webConcurrency: number;
  /** MAX_TURNS_IN_FLIGHT: load shedding per web process (runtime/call-runtime.ts); 0: none */
  readonly maxTurnsInFlight: number;
  /** encrypted numbers are deleted this many days after their report or SMS */
  readonly phoneRetentionDays: number;
  /** how long a dropped call can be continued; 0: never */
  readonly resumeWindowSeconds: number;
  /** a call-back request nobody has claimed after this many minutes is late (console, dashboard) */
  readonly callbackAnswerMinutes: number;
  /** the IANA zone the console shows dates and hours in */
  readonly consoleTimeZone: string;
  /** the voice line: languages the gateway's text-to-speech reads, and its voice */
  readonly voiceTts: readonly string[];
  readonly voiceSayVoice: 'woman' | 'man';
  /** hotline numbers whose incoming calls are rejected and called back, and how often a number may be */
  readonly voiceCallbackNumbers: readonly string[];
  readonly voiceCallbacksPerHour: number;
  /** hosts callers' recordings may be fetched from although private */
  readonly voiceRecordingHosts: readonly string[];
  /** where gateways reach this server, without a final / (unset: each request's own address) */
  readonly publicUrl?: string;
  readonly logLevel: Env['LOG_LEVEL'];
  /** prefix of every Redis key (sessions, locks, queue), so deployments can share a server */
  readonly redisPrefix: string;
  /** Express's `trust proxy`: which proxies' X-Forwarded-For to believe (loopback, a CIDR list, or a hop count) */
  readonly trustProxy: string | number | boolean;
  /** bearer token for `/metrics` in production (otherwise only a loopback peer may scrape) */
  readonly metricsToken?: string;
  /** which gateway sends SMS: Africa's Talking (dry-run without an account) or SMPP */
  readonly smsTransport: 'africastalking' | 'smpp';
  /** present when smsTransport is smpp */
  readonly smpp?: SmppSettings;
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
  const redis = redisTarget(e);
  for (const name of ['DATABASE_URL', 'DATABASE_READ_URL'] as const) {
    try {
      if (e[name]) postgresHosts(e[name]);
    } catch (err) {
      throw new ConfigError(`invalid ${name}: ${(err as Error).message}`);
    }
  }
  if (e.DATABASE_READ_URL && !e.DATABASE_URL) throw new ConfigError('DATABASE_READ_URL is set without DATABASE_URL: the standby it names follows a primary that DATABASE_URL must name');
  if (e.WEB_CONCURRENCY > 1 && (!e.DATABASE_URL || !redis)) {
    throw new ConfigError('WEB_CONCURRENCY above 1 needs DATABASE_URL and REDIS_URL (or REDIS_SENTINELS): the embedded database and Redis belong to one process');
  }
  const smpp = smppSettings(e);
  const config: Config = {
    env: e.NODE_ENV,
    production,
    port: e.PORT,
    host: e.HOST,
    ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
    ...(e.DATABASE_READ_URL ? { databaseReadUrl: e.DATABASE_READ_URL } : {}),
    ...(redis ? { redis } : {}),
    redisWaitReplicas: e.REDIS_WAIT_REPLICAS ?? (redis?.kind === 'sentinel' ? 1 : 0),
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
    defaultCountry: e.DEFAULT_COUNTRY,
    bambaraSpelling: e.BAMBARA_SPELLING,
    textForms: { africastalking: e.AT_TEXT_FORM, hubtel: e.HUBTEL_TEXT_FORM },
    limits: { gsm7: e.USSD_MAX_CHARS_GSM7, ucs2: e.USSD_MAX_CHARS_UCS2 },
    rateLimitPerPhone: e.RATE_LIMIT_PER_PHONE,
    rateLimitPerIp: e.RATE_LIMIT_PER_IP,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    webConcurrency: e.WEB_CONCURRENCY,
    maxTurnsInFlight: e.MAX_TURNS_IN_FLIGHT,
    resumeWindowSeconds: e.RESUME_WINDOW_SECONDS,
    callbackAnswerMinutes: e.CALLBACK_ANSWER_MINUTES,
    consoleTimeZone: e.CONSOLE_TIME_ZONE,
    voiceTts: e.VOICE_TTS_LANGUAGES.split(',').map((s) => s.trim()).filter(Boolean),
    voiceSayVoice: e.VOICE_SAY_VOICE,
    voiceCallbackNumbers: e.VOICE_CALLBACK_NUMBERS.split(',').map((s) => s.trim()).filter(Boolean),
    voiceCallbacksPerHour: e.VOICE_CALLBACKS_PER_HOUR,
    voiceRecordingHosts: e.VOICE_RECORDING_HOSTS.split(',').map((s) => s.trim()).filter(Boolean),
    ...(e.PUBLIC_URL ? { publicUrl: e.PUBLIC_URL.replace(/\/+$/, '') } : {}),
    phoneRetentionDays: e.PHONE_RETENTION_DAYS,
    logLevel: e.LOG_LEVEL,
    redisPrefix: e.REDIS_PREFIX,
    trustProxy: trustProxyValue(e.TRUST_PROXY.trim()),
    ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}),
    smsTransport: e.SMS_TRANSPORT,
    ...(smpp ? { smpp } : {}),
  };
  return deepFreeze(config);
}

/** REDIS_URL, or the Sentinel group; undefined for the embedded redis-server. */
function redisTarget(e: Env): RedisTarget | undefined {
  if (!e.REDIS_SENTINELS) {
    if (e.REDIS_SENTINEL_NAME) throw new ConfigError('REDIS_SENTINEL_NAME is set without REDIS_SENTINELS: name the Sentinels too (host:port,host:port,host:port)');
    for (const name of ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD'] as const) {
      if (e[name]) throw new ConfigError(`${name} is only read with REDIS_SENTINELS: with one server, put the credentials in REDIS_URL (redis://user:password@host:6379)`);
    }
    if (e.REDIS_TLS) throw new ConfigError('REDIS_TLS is only read with REDIS_SENTINELS: with one server, use a rediss:// REDIS_URL');
    return e.REDIS_URL ? { kind: 'url', url: e.REDIS_URL } : undefined;
  }
  if (e.REDIS_URL) throw new ConfigError('REDIS_URL and REDIS_SENTINELS are both set: one Redis server, or the Sentinels that name the primary, not both');
  if (!e.REDIS_SENTINEL_NAME) throw new ConfigError('missing REDIS_SENTINEL_NAME: the name the Sentinels monitor the primary under (sentinel monitor <name> ...)');
  const sentinels = e.REDIS_SENTINELS.split(',').map((entry) => {
    const [host, port] = entry.trim().split(':') as [string, string];
    if (Number(port) < 1 || Number(port) > 65535) throw new ConfigError(`invalid REDIS_SENTINELS: port ${port} of ${host} is not a port`);
    return { host, port: Number(port) };
  });
  return {
    kind: 'sentinel',
    sentinels,
    name: e.REDIS_SENTINEL_NAME,
    ...(e.REDIS_USERNAME ? { username: e.REDIS_USERNAME } : {}),
    ...(e.REDIS_PASSWORD ? { password: e.REDIS_PASSWORD } : {}),
    ...(e.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: e.REDIS_SENTINEL_PASSWORD } : {}),
    tls: e.REDIS_TLS,
  };
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
