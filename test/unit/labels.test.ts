/** The console names every audit action the code writes in French: none shows as a raw code, and each can be filtered on. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { AUDIT_ACTIONS } from '../../src/web/console/labels.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('audit actions', () => {
  it('every action written to the audit log has a French label', () => {
    const written = new Set<string>();
    for (const file of sources('src')) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\baudit\([^,]+,[^,]+,\s*'([a-z_]+)'/g)) written.add(m[1]!);
      for (const m of text.matchAll(/insertInto\('audit_log'\)[\s\S]{0,300}?action:\s*'([a-z_]+)'/g)) written.add(m[1]!);
    }
    expect(written.size).toBeGreaterThan(8);
    expect([...written].filter((action) => !(action in AUDIT_ACTIONS))).toEqual([]);
  });
});
