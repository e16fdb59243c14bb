/**
 * The Docker image and docker-compose.yml start the processes exactly as the
 * npm scripts do (same node flags, same built entry points), so that what the
 * bench measures with `npm run start:web` is what gets deployed.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { loadConfig, SETTINGS } from '../../src/config/config.js';
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

interface ComposeService {
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
}
const compose = () => parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, ComposeService> };
/** Settings compose fixes for the containers (their paths, ports and services), rather than passing through. */
const FIXED_IN_COMPOSE = ['NODE_ENV', 'PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'DATA_DIR', 'FLOWS_DIR', 'LOCALES_DIR'];
/** Services of the `ha` profile, with no application settings of their own. */
const HA_SERVICES = ['redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3', 'postgres-standby'];

describe('docker-compose.yml defaults', () => {
  it('publishes the web port on this host\'s loopback only, for a TLS proxy on the host', () => {
    const { services } = compose();
    expect(services.web!.ports).toEqual(['127.0.0.1:3000:3000']);
    for (const [name, service] of Object.entries(services)) if (name !== 'web') expect(service.ports).toBeUndefined();
  });

  it('passes every setting of src/config/config.ts through, with the application\'s own defaults', () => {
    const env = compose().services.web!.environment!;
    const passed = SETTINGS.filter((name) => !FIXED_IN_COMPOSE.includes(name));
    expect(passed.filter((name) => !(name in env))).toEqual([]);
    const defaults: Record<string, string> = {};
    for (const name of passed) {
      const m = /^\$\{([A-Z0-9_]+)(:-|:\?)(.*)\}$/.exec(env[name]!);
      expect([name, m?.[1]]).toEqual([name, name]);
      if (m![2] === ':-' && m![3] !== '') defaults[name] = m![3]!;
    }
    const { trustProxy, ...fromCompose } = loadConfig(defaults);
    const { trustProxy: appDefault, ...fromApp } = loadConfig({});
    expect(fromCompose).toEqual(fromApp);
    // The one deliberate difference: the host's proxy arrives from the compose network's gateway, a private address.
    expect(appDefault).toBe('loopback');
    expect(trustProxy).toBe('uniquelocal');
  });

  it('by default reaches the compose Redis and PostgreSQL; the `ha` profile adds the replica, three Sentinels and the standby', () => {
    const { services } = compose();
    const env = services.web!.environment!;
    expect(env.DATABASE_URL).toBe('${DATABASE_URL:-postgres://kalata:${POSTGRES_PASSWORD}@postgres:5432/kalata}');
    // `-`, not `:-`: the ha profile's REDIS_URL= (empty) leaves Redis to REDIS_SENTINELS.
    expect(env.REDIS_URL).toBe('${REDIS_URL-redis://redis:6379}');
    const profiles = Object.fromEntries(Object.entries(services).map(([name, s]) => [name, (s as { profiles?: string[] }).profiles ?? []]));
    expect(Object.keys(profiles).filter((n) => profiles[n]!.includes('ha'))).toEqual(HA_SERVICES);
    for (const file of ['sentinel.sh', 'postgres-standby.sh', 'postgres-replication.sh', 'ha.env.example']) expect(existsSync(join('deploy/ha', file))).toBe(true);
    // What the example .env sets is what Kalata reads.
    const example = Object.fromEntries(
      readFileSync('deploy/ha/ha.env.example', 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const config = loadConfig({ ...example, DATABASE_URL: example.DATABASE_URL!.replace('PASSWORD', 'pw'), DATABASE_READ_URL: example.DATABASE_READ_URL!.replace('PASSWORD', 'pw') });
    expect(config.redis).toMatchObject({ kind: 'sentinel', name: 'kalata', sentinels: [{ host: 'sentinel-1', port: 26379 }, { host: 'sentinel-2', port: 26379 }, { host: 'sentinel-3', port: 26379 }] });
  });

  it('gives the worker the same environment', () => {
    const { services } = compose();
    expect(services.worker!.environment).toEqual(services.web!.environment);
  });
});

describe('reproducible installs', () => {
  it('the image and CI install exactly the lock file', () => {
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/^RUN npm ci --no-audit --no-fund /m);
    expect(readFileSync('Dockerfile', 'utf8')).not.toMatch(/npm install/);
    const ci = readFileSync('.ci/run', 'utf8');
    expect(ci).toMatch(/^npm ci --no-audit --no-fund$/m);
    expect(ci).not.toMatch(/^npm install/m);
  });

  it('approves, in allowScripts, exactly the packages of the lock that have install scripts', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = new Set(Object.entries(lock.packages).flatMap(([path, p]) => (p.hasInstallScript ? [path.replace(/^.*node_modules\//, '')] : [])));
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts?: Record<string, boolean> };
    expect(Object.keys(pkg.allowScripts ?? {}).sort()).toEqual([...withScripts].sort());
  });
});
