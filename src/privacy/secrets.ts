/**
 * The two keys that protect phone numbers. In production they come from the
 * environment (config refuses to start without them). In development they are
 * generated once into `<data dir>/secrets.json`, readable by the owner only,
 * so that pseudonyms stay stable across restarts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';

export interface Secrets {
  readonly phoneHashKey: string;
  readonly dataEncryptionKey: string;
}

export function loadSecrets(config: Pick<Config, 'phoneHashKey' | 'dataEncryptionKey' | 'dataDir'>): Secrets {
  if (config.phoneHashKey && config.dataEncryptionKey) {
    return Object.freeze({ phoneHashKey: config.phoneHashKey, dataEncryptionKey: config.dataEncryptionKey });
  }
  const file = join(config.dataDir, 'secrets.json');
  let stored: Partial<Secrets> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
  // Only generated keys are written: a key given in the environment never lands on disk.
  const generated: Partial<Secrets> = {
    phoneHashKey: stored.phoneHashKey ?? randomBytes(32).toString('base64url'),
    dataEncryptionKey: stored.dataEncryptionKey ?? randomBytes(32).toString('hex'),
  };
  if (stored.phoneHashKey !== generated.phoneHashKey || stored.dataEncryptionKey !== generated.dataEncryptionKey) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600 });
  }
  return Object.freeze({
    phoneHashKey: config.phoneHashKey ?? generated.phoneHashKey!,
    dataEncryptionKey: config.dataEncryptionKey ?? generated.dataEncryptionKey!,
  });
}
