import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('config', () => {
  it('has working defaults for a fresh machine', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, defaultLanguage: 'fr', bambaraSpelling: 'standard', limits: { gsm7: 182, ucs2: 80 }, serviceCodes: [], production: false });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.at).toBeUndefined();
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
    [{ DEFAULT_LANGUAGE: 'en' }, /^invalid DEFAULT_LANGUAGE="en": /],
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
    const c = loadConfig({ NODE_ENV: 'production', WEBHOOK_SECRET: 's'.repeat(32), PHONE_HASH_KEY: 'k'.repeat(32), DATA_ENCRYPTION_KEY: 'a'.repeat(64) });
    expect(c.production).toBe(true);
  });
});
