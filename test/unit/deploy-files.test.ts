/**
 * The Docker image and docker-compose.yml start the processes exactly as the
 * npm scripts do (same node flags, same built entry points), so that what the
 * bench measures with `npm run start:web` is what gets deployed.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { buildDist, scriptNodeArgs } from '../../src/main/build.js';

const root = process.cwd();
const asScript = (script: string) => ['node', ...scriptNodeArgs(root, script, 'dist')];

describe('npm run build', () => {
  it('swaps a whole new dist/ in: builds at once (several start:web starting together) leave one complete tree and nothing half-done', async () => {
    mkdirSync(join(root, '.tmp'), { recursive: true });
    const parent = mkdtempSync(join(root, '.tmp', 'build-test-'));
    try {
      const out = join(parent, 'dist');
      await Promise.all([buildDist(root, out), buildDist(root, out), buildDist(root, out)]);
      expect(readdirSync(parent)).toEqual(['dist']);
      expect(existsSync(join(out, 'src/main/web.js'))).toBe(true);
      expect(existsSync(join(out, 'migrations/index.js'))).toBe(true);
      expect(existsSync(join(out, 'src/web/views/layout.eta'))).toBe(true);
      expect(readdirSync(join(out, 'src/web/assets')).length).toBeGreaterThan(0);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('deployment files', () => {
  it("the image's command is npm run start:web's, on the image's built code", () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1];
    expect(JSON.parse(cmd!)).toEqual(asScript('start:web'));
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/^RUN npm run build$/m);
  });

  it("compose's worker runs npm run start:worker's command", () => {
    const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { command?: string[] }> };
    expect(compose.services.worker!.command).toEqual(asScript('start:worker'));
  });
});
