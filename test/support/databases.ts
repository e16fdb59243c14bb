/** Per-test-file isolation on the shared test servers (see global-setup.ts). */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Creates an empty database named after `prefix` on TEST_DATABASE_URL's server; resolves its URL. */
export async function freshDatabase(prefix: string): Promise<string> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set (test/support/global-setup.ts sets it)');
  const name = `${slug(prefix, '_').slice(0, 40)}_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A unique Redis key prefix (for ioredis keyPrefix append ':'; usable as a BullMQ prefix as is). */
export function freshRedisPrefix(prefix: string): string {
  return `${slug(prefix, '-')}-${randomBytes(5).toString('hex')}`;
}

/** Lowercase letters and digits joined by `sep`, starting with a letter. */
function slug(text: string, sep: string): string {
  const words = text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  if (!/^[a-z]/.test(words[0] ?? '')) words.unshift('t');
  return words.join(sep);
}
