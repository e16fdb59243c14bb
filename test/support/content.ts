/**
 * The repo's flows and texts as a deployment would ship them: a copy in which
 * the sample values (`sample:` in flows/variables.yaml, the short code) are
 * replaced, so that a production process accepts them.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** FLOWS_DIR and LOCALES_DIR of a fresh copy of the repo's content, for a test that edits it. */
export function contentCopy(prefix = 'kalata-content-'): { FLOWS_DIR: string; LOCALES_DIR: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Links followed: a checkout whose flows/ or locales/ is a link must never be written through by a test.
  cpSync('flows', join(dir, 'flows'), { recursive: true, dereference: true });
  cpSync('locales', join(dir, 'locales'), { recursive: true, dereference: true });
  return { FLOWS_DIR: join(dir, 'flows'), LOCALES_DIR: join(dir, 'locales') };
}

/** FLOWS_DIR and LOCALES_DIR of a fresh copy whose short code is `*555*1#`. */
export function deployedContent(): { FLOWS_DIR: string; LOCALES_DIR: string } {
  const content = contentCopy();
  const variables = join(content.FLOWS_DIR, 'variables.yaml');
  const text = readFileSync(variables, 'utf8');
  const deployed = text.replace(/^( {2}(?:fr|bm): )"\*384\*123#"$/gm, '$1"*555*1#"');
  if (deployed === text) throw new Error('flows/variables.yaml: the sample short code was not found');
  writeFileSync(variables, deployed);
  return content;
}
