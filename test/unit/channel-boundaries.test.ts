/**
 * The channel folders translate a gateway's protocol and nothing more: no
 * file under src/channels reaches the database or the session store
 * (src/store) itself. Calls are written by the runtime, SMS by the SMS
 * services, so that a new channel (voice) has only translation to write.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const CHANNELS = join(process.cwd(), 'src', 'channels');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every module a file imports (static imports and re-exports, dynamic imports). */
const importsOf = (source: string) => [...source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);

describe('the channel folders', () => {
  const files = tsFiles(CHANNELS);

  it('are found', () => {
    expect(files.length).toBeGreaterThan(8);
    expect(importsOf(`import { a } from '../../store/x.js';\nimport type { b } from "./y.js";\nconst c = await import('../z.js');`)).toEqual(['../../store/x.js', './y.js', '../z.js']);
  });

  it('never import the store: calls go through the runtime, SMS through the SMS services', () => {
    const reaching = files.flatMap((file) =>
      importsOf(readFileSync(file, 'utf8'))
        .filter((spec) => /(^|\/)store\//.test(spec))
        .map((spec) => `${relative(process.cwd(), file)} imports ${spec}`),
    );
    expect(reaching).toEqual([]);
  });
});
