/**
 * The Docker image and docker-compose.yml start the processes exactly as the
 * npm scripts do (same node flags, same built entry points), so that what the
 * bench measures with `npm run start:web` is what gets deployed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { scriptNodeArgs } from '../../src/main/build.js';

const root = process.cwd();
const asScript = (script: string) => ['node', ...scriptNodeArgs(root, script, 'dist')];

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
