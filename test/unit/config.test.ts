import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, loadOldKeys } from '../../src/config/config.js';

/** Production settings with random secrets, as `openssl rand` makes them. */
const PRODUCTION = {
  NODE_ENV: 'production',
  WEBHOOK_SECRET: randomBytes(24).toString('hex'),
  PHONE_HASH_KEY: randomBytes(32).toString('hex'),
  DATA_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
};

describe('config', () => {
  it('has working defaults for a fresh machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, defaultLanguage: 'fr', defaultCountry: 'ML', bambaraSpelling: 'standard', limits: { gsm7: 182, ucs2: 80 }, serviceCodes: [], production: false });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redis).toBeUndefined();
    expect(c.at).toBeUndefined();
  });

  it('shows Hubtel screens in plain ASCII and Africa\'s Talking screens as written, unless set; refuses an unknown form', () => {
    expect(loadConfig({}).textForms).toEqual({ africastalking: 'as_written', hubtel: 'ascii' });
    expect(loadConfig({ AT_TEXT_FORM: 'gsm7', HUBTEL_TEXT_FORM: 'as_written' }).textForms).toEqual({ africastalking: 'gsm7', hubtel: 'as_written' });
    expect(() => loadConfig({ HUBTEL_TEXT_FORM: 'latin1' })).toThrow(/HUBTEL_TEXT_FORM/);
  });

  it('reads DEFAULT_COUNTRY as a region code in capitals; empty is Mali', () => {
    expect(loadConfig({ DEFAULT_COUNTRY: 'ke' }).defaultCountry).toBe('KE');
    expect(loadConfig({ DEFAULT_COUNTRY: ' SN ' }).defaultCountry).toBe('SN');
    expect(loadConfig({ DEFAULT_COUNTRY: '' }).defaultCountry).toBe('ML');
  });

  it('reads CONSOLE_TIME_ZONE as an IANA zone, Bamako when empty, and refuses a zone Node does not know', () => {
    expect(loadConfig({}).consoleTimeZone).toBe('Africa/Bamako');
    expect(loadConfig({ CONSOLE_TIME_ZONE: ' ' }).consoleTimeZone).toBe('Africa/Bamako');
    expect(loadConfig({ CONSOLE_TIME_ZONE: 'Europe/Paris' }).consoleTimeZone).toBe('Europe/Paris');
    expect(() => loadConfig({ CONSOLE_TIME_ZONE: 'Mali/Bamako' })).toThrow(/invalid CONSOLE_TIME_ZONE="Mali\/Bamako": an IANA time zone/);
  });

  it('is frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
  });

  it('parses lists and numbers', () => {
    const c = loadConfig({ PORT: '8080', USSD_SERVICE_CODES: '*384*123#, *384*124# ,', USSD_MAX_CHARS_GSM7: '160', BAMBARA_SPELLING: 'gsm7' });
    expect(c.port).toBe(8080);
    expect(c.serviceCodes).toEqual(['*384*123#', '*384*124#']);
    expect(c.limits.gsm7).toBe(160);
    expect(c.bambaraSpelling).toBe('gsm7');
  });

  it.each([
    [{ PORT: 'eighty' }, /^invalid PORT="eighty": /],
    [{ DEFAULT_LANGUAGE: 'english' }, /^invalid DEFAULT_LANGUAGE="english": /],
    [{ DEFAULT_COUNTRY: 'Mali' }, /^invalid DEFAULT_COUNTRY="Mali": must be a two-letter region code/],
    [{ DEFAULT_COUNTRY: 'XX' }, /^invalid DEFAULT_COUNTRY="XX": must be a two-letter region code/],
    [{ DEFAULT_COUNTRY: '223' }, /^invalid DEFAULT_COUNTRY="223": /],
    [{ DATABASE_URL: 'mysql://x' }, /^invalid DATABASE_URL: must start with postgres:\/\//],
    [{ WEBHOOK_SECRET: 'short' }, /^invalid WEBHOOK_SECRET: must be at least 22 characters/],
    [{ DATA_ENCRYPTION_KEY: 'my-super-secret-key-value' }, /^invalid DATA_ENCRYPTION_KEY: must be 32 bytes/],
    [{ USSD_MAX_CHARS_UCS2: '500' }, /^invalid USSD_MAX_CHARS_UCS2="500"/],
    [{ AT_USERNAME: 'sandbox' }, /AT_USERNAME\/AT_API_KEY: set both/],
    [{ NODE_ENV: 'production' }, /^missing WEBHOOK_SECRET: required when NODE_ENV=production$/],
  ])('stops with one line naming the variable: %j', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env as Record<string, string>);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).not.toMatch(/super-secret|short"/);
  });

  it('starts in production with its keys', () => {
    const c = loadConfig(PRODUCTION);
    expect(c.production).toBe(true);
    expect(c.metricsToken).toBeUndefined();
    expect(loadConfig({ ...PRODUCTION, METRICS_TOKEN: randomBytes(16).toString('hex') }).metricsToken).toMatch(/^[0-9a-f]{32}$/);
  });

  describe('refuses obviously weak secrets in production, naming the variable and never the value', () => {
    const weak: [string, string, RegExp][] = [
      ['PHONE_HASH_KEY', 'k'.repeat(32), /one character repeated/],
      ['DATA_ENCRYPTION_KEY', '0'.repeat(64), /one character repeated/],
      ['DATA_ENCRYPTION_KEY', 'ab'.repeat(32), /a pattern of 2 characters repeated/],
      ['DATA_ENCRYPTION_KEY', '0123456789abcdef'.repeat(4), /a pattern of 16 characters repeated/],
      ['DATA_ENCRYPTION_KEY', `${'A'.repeat(42)}E=`, /only 3 distinct characters/],
      ['PHONE_HASH_KEY', 'hash-key-'.repeat(5), /a pattern of 9 characters repeated/],
      ['PHONE_HASH_KEY', 'abababababababababababababababcd', /only 4 distinct characters/],
      ['PHONE_HASH_KEY', 'change-me-to-a-long-random-value-please', /a placeholder word in it/],
      ['WEBHOOK_SECRET', 's'.repeat(32), /one character repeated/],
      ['WEBHOOK_SECRET', 'my-webhook-secret-for-kalata', /a placeholder word in it/],
      ['METRICS_TOKEN', '1234'.repeat(8), /a pattern of 4 characters repeated/],
    ];
    it.each(weak)('%s=%s', (name, value, why) => {
      let error: unknown;
      try {
        loadConfig({ ...PRODUCTION, [name]: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(new RegExp(`^weak ${name}: ${why.source}, not a random value; in production use one such as \\$\\(openssl rand -hex 32\\)`));
      expect(message).not.toContain(value);
      expect(message).not.toContain('\n');
      if (name === 'PHONE_HASH_KEY' || name === 'DATA_ENCRYPTION_KEY') expect(message).toContain(`OLD_${name}=<this key> ${name}=<new key> npm run keys -- rotate`);
    });

    it('takes them in development (tests and demos use such keys)', () => {
      for (const [name, value] of weak) expect(() => loadConfig({ [name]: value })).not.toThrow();
    });

    it('takes random keys in either of their forms', () => {
      for (let i = 0; i < 200; i++) {
        expect(() =>
          loadConfig({ ...PRODUCTION, PHONE_HASH_KEY: randomBytes(32).toString('base64url'), DATA_ENCRYPTION_KEY: randomBytes(32).toString(i % 2 ? 'hex' : 'base64'), METRICS_TOKEN: randomBytes(16).toString('hex') }),
        ).not.toThrow();
      }
    });
  });

  it.each([
    ['loopback', 'loopback'],
    ['loopback, uniquelocal', 'loopback, uniquelocal'],
    ['10.0.0.0/8,172.16.0.0/12', '10.0.0.0/8,172.16.0.0/12'],
    ['172.30.0.1', '172.30.0.1'],
    ['fd00::/8', 'fd00::/8'],
    ['2', 2],
    ['true', true],
    ['false', false],
  ] as const)('takes TRUST_PROXY=%s as Express does', (value, parsed) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(parsed);
  });

  it.each(['proxy.example.com', '10.0.0.0/33', 'loopback,', 'yes'])('refuses TRUST_PROXY=%s with one line', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/^invalid TRUST_PROXY=".*": loopback, linklocal, uniquelocal, addresses or CIDR ranges/);
  });

  it('reads the old keys of a rotation, checking their form but not their strength', () => {
    expect(loadOldKeys({})).toEqual({});
    expect(loadOldKeys({ OLD_PHONE_HASH_KEY: 'k'.repeat(32), OLD_DATA_ENCRYPTION_KEY: '0'.repeat(64) })).toEqual({ phoneHashKey: 'k'.repeat(32), dataEncryptionKey: '0'.repeat(64) });
    expect(() => loadOldKeys({ OLD_DATA_ENCRYPTION_KEY: 'not-a-key' })).toThrow(/^invalid OLD_DATA_ENCRYPTION_KEY: must be 32 bytes/);
    expect(() => loadOldKeys({ OLD_PHONE_HASH_KEY: 'short' })).toThrow(/^invalid OLD_PHONE_HASH_KEY: must be at least 32 characters$/);
  });

  it('reads Redis as one URL, or as a Sentinel group with its credentials; waits for one replica with Sentinel unless told', () => {
    expect(loadConfig({ REDIS_URL: 'rediss://:pw@cache:6380' })).toMatchObject({ redis: { kind: 'url', url: 'rediss://:pw@cache:6380' }, redisWaitReplicas: 0 });
    const c = loadConfig({ REDIS_SENTINELS: ' 10.0.0.1:26379, 10.0.0.2:26379,sentinel-3:26380', REDIS_SENTINEL_NAME: 'kalata', REDIS_PASSWORD: 'p', REDIS_SENTINEL_PASSWORD: 's', REDIS_TLS: 'true' });
    expect(c.redis).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }, { host: 'sentinel-3', port: 26380 }],
      name: 'kalata',
      password: 'p',
      sentinelPassword: 's',
      tls: true,
    });
    expect(c.redisWaitReplicas).toBe(1);
    expect(loadConfig({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'k', REDIS_WAIT_REPLICAS: '0' }).redisWaitReplicas).toBe(0);
    expect(loadConfig({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'k', DATABASE_URL: 'postgres://x/y', WEB_CONCURRENCY: '2' }).webConcurrency).toBe(2);
  });

  it('refuses a Sentinel setting that cannot work, in one line that never shows a password', () => {
    expect(() => loadConfig({ REDIS_SENTINELS: 'a:26379' })).toThrow(/^missing REDIS_SENTINEL_NAME: /);
    expect(() => loadConfig({ REDIS_SENTINEL_NAME: 'kalata' })).toThrow(/^REDIS_SENTINEL_NAME is set without REDIS_SENTINELS/);
    expect(() => loadConfig({ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'k', REDIS_URL: 'redis://r:6379' })).toThrow(/^REDIS_URL and REDIS_SENTINELS are both set/);
    expect(() => loadConfig({ REDIS_SENTINELS: 'a', REDIS_SENTINEL_NAME: 'k' })).toThrow(/^invalid REDIS_SENTINELS="a": host:port of each Sentinel/);
    expect(() => loadConfig({ REDIS_SENTINELS: 'a:70000', REDIS_SENTINEL_NAME: 'k' })).toThrow(/^invalid REDIS_SENTINELS: port 70000 of a is not a port$/);
    expect(() => loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'secret-pw' })).toThrow(/^REDIS_PASSWORD is only read with REDIS_SENTINELS: with one server, put the credentials in REDIS_URL/);
    expect(() => loadConfig({ REDIS_TLS: 'true' })).toThrow(/^REDIS_TLS is only read with REDIS_SENTINELS/);
    expect(() => loadConfig({ REDIS_TLS: 'yes' })).toThrow(/^invalid REDIS_TLS="yes"/);
    expect(() => loadConfig({ REDIS_WAIT_REPLICAS: 'two' })).toThrow(/^invalid REDIS_WAIT_REPLICAS="two": a number of replicas, 0 to 9$/);
    for (const bad of [{ REDIS_PASSWORD: 'secret-pw' }, { REDIS_SENTINEL_PASSWORD: 'secret-pw' }]) {
      expect(() => loadConfig({ REDIS_URL: 'redis://r:6379', ...bad })).toThrow(/^(?!.*secret-pw)/);
    }
  });
});
