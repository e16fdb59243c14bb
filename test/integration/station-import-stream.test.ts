/**
 * Importing big files (issue 12 item 3), on PostgreSQL and on PGlite: the
 * importer streams, checks the whole file (one bad row among thousands, the
 * same NINA rows apart), writes nothing for a bad file, changes nothing when
 * run again, and counts what --replace removes; the console's upload goes
 * through PostgreSQL to a real BullMQ worker (also when Redis was away at the
 * upload), and the file is gone once imported. On PostgreSQL, a 200,000-voter
 * import runs in a 40 MB heap.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import pg from 'pg';
import { sql } from 'kysely';
import { startStationImportWorker, type StationImportWorker } from '../../src/queue/station-import-worker.js';
import { CHUNK_BYTES, createImport, getImport, storeUpload, UploadTooLargeError } from '../../src/stations/import-store.js';
import { csvText, importStationsCsv, ImportError, type ImportSummary } from '../../src/stations/station-import.js';
import { VOTER_BATCH } from '../../src/stations/voter-import.js';
import { addUser, openSession, type User } from '../../src/store/user-store.js';
import { SESSION_TTL_MS } from '../../src/web/console/console-auth.js';
import { startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

/** 4 regions x 4 cercles x 4 communes x 4 centres, 2 stations each: 512 rows. */
function* stationLines(): Generator<string> {
  yield 'centre_code,region,cercle,commune,centre,station';
  for (let r = 1; r <= 4; r++) for (let c = 1; c <= 4; c++) for (let m = 1; m <= 4; m++) for (let k = 1; k <= 4; k++) for (let s = 1; s <= 2; s++) yield `T-${r}${c}${m}${k},Région ${r},Cercle ${r}.${c},Commune ${r}.${c}.${m},École ${k} (fictive),${s}`;
}
const NINA = (i: number) => `FICT${String(i).padStart(11, '0')}`;
/** Voter i is on a centre and station of stationLines(). */
const voterLine = (i: number) => `${NINA(i)},T-${1 + (i % 4)}${1 + ((i >> 2) % 4)}${1 + ((i >> 4) % 4)}${1 + ((i >> 6) % 4)},${1 + ((i >> 8) % 2)}`;
function* voterLines(from: number, to: number, change: (i: number, line: string) => string = (_i, l) => l): Generator<string> {
  yield 'nina,centre_code,station';
  for (let i = from; i < to; i++) yield change(i, voterLine(i));
}
const text = (lines: Iterable<string>) => [...lines].join('\n') + '\n';
/** A file source in chunks of 64 kB, as a disk or a socket gives it. */
const chunked = (body: string) => () => {
  const bytes = Buffer.from(body);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 65_536) chunks.push(bytes.subarray(i, i + 65_536));
  return chunks;
};

const ROWS = 6_000; // three batches of the voter import
const PASSWORD = 'a-long-test-password';

describe.each([['PostgreSQL', false], ['PGlite', true]] as const)('on %s', (_name, pglite) => {
  let h: Harness;
  let key: string;
  let admin: User;
  let cookie: string;
  let csrf: string;
  let worker: StationImportWorker;
  let workerRedis: Redis;

  const importText = (body: string, replace = false) => importStationsCsv(h.ctx.db, chunked(body), { replace, key });
  const refusal = (body: string, replace = false) => importText(body, replace).then(() => undefined, (e: unknown) => e as ImportError);
  const voters = async () => Number((await sql<{ n: string }>`select count(*) as n from voter_assignments`.execute(h.ctx.db)).rows[0]!.n);
  /** Every assignment with its row version: a row written again, even unchanged, gets a new xmin. */
  const assignments = async () => (await sql<{ nina_hash: string; v: string }>`select nina_hash, xmin::text || centre_id || station as v from voter_assignments order by nina_hash`.execute(h.ctx.db)).rows;

  const upload = (body: string | ReadableStream, query = '', headers: Record<string, string> = {}) =>
    fetch(`${h.base}/stations/import${query}`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'text/csv', ...headers }, body, duplex: 'half' } as RequestInit);
  const view = async (id: string) => (await (await fetch(`${h.base}/stations/imports/${id}`, { headers: { cookie } })).json()) as Record<string, unknown>;
  const finished = (id: string) => waitFor(`import ${id} to end`, () => view(id), (v) => v.finished === true, 20_000);

  beforeAll(async () => {
    h = await startHarness(`station-import-${pglite ? 'pglite' : 'pg'}`, { pglite, context: { worker: false } });
    key = h.ctx.secrets.phoneHashKey;
    admin = await addUser(h.ctx.db, 'amina', 'admin', PASSWORD);
    const session = await openSession(h.ctx.db, admin, SESSION_TTL_MS);
    cookie = `kalata=${session.token}`;
    csrf = session.csrfToken;
    workerRedis = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: null });
    worker = startStationImportWorker({
      db: h.ctx.db,
      ninaKey: key,
      logger: h.ctx.logger,
      connection: workerRedis,
      prefix: `${h.ctx.redisPrefix}bull`,
      queue: h.ctx.stationImports,
      relayEveryMs: 200,
      pendingAfterMs: 300,
      progressEveryMs: 0,
      busyRetryMs: 200,
    });
    await expect(importText(text(stationLines()))).resolves.toMatchObject({ centres: 256, stations: 512 });
  }, 30_000);
  afterAll(async () => {
    await worker?.close();
    workerRedis?.disconnect();
    await h?.close();
  });

  it('imports nothing from a file with one bad row among thousands, and lists that row', async () => {
    const refused = await refusal(text(voterLines(0, ROWS, (i, l) => (i === 4_500 ? l.replace(/,\d$/, ',9') : l))));
    expect(refused).toBeInstanceOf(ImportError);
    // Line 4,502: the header is line 1, voter 0 is line 2.
    expect(refused!.problems).toEqual([{ row: 4_502, column: 'station', reason: 'bureau inconnu dans ce centre' }]);
    expect(await voters()).toBe(0);
  });

  it('finds the same NINA rows apart, in another batch or the same one, and never names it', async () => {
    const refused = await refusal(text(voterLines(0, ROWS, (i, l) => (i === ROWS - 1 ? voterLine(0) : i === 20 ? voterLine(10) : l))));
    expect(refused!.problems).toEqual([
      { row: 22, column: 'nina', reason: 'même NINA que la ligne 12' },
      { row: ROWS + 1, column: 'nina', reason: 'même NINA que la ligne 2' },
    ]);
    expect(ROWS - 1).toBeGreaterThan(VOTER_BATCH);
    expect(JSON.stringify(refused!.problems)).not.toContain('FICT');
    expect(await voters()).toBe(0);
  });

  it('lists the first 200 problems in row order and counts them all', async () => {
    const refused = await refusal(text(voterLines(0, ROWS, (i, l) => (i % 20 === 7 ? l.replace(/^FICT/, '#') : l))));
    expect([refused!.problems.length, refused!.total]).toEqual([200, ROWS / 20]);
    expect(refused!.problems[0]).toEqual({ row: 9, column: 'nina', reason: 'pas un numéro NINA (6 à 30 lettres et chiffres)' });
    expect(refused!.problems.map((p) => p.row)).toEqual([...refused!.problems.map((p) => p.row)].sort((a, b) => a - b));
  });

  it('imports a good file, and the same file again changes no row', async () => {
    const file = text(voterLines(0, ROWS));
    await expect(importText(file)).resolves.toEqual({ kind: 'voters', rows: ROWS, voters: ROWS, changed: ROWS, removed: 0 } satisfies ImportSummary);
    const before = await assignments();
    await expect(importText(file)).resolves.toMatchObject({ rows: ROWS, changed: 0, removed: 0 });
    await expect(importText(file, true)).resolves.toMatchObject({ rows: ROWS, changed: 0, removed: 0 });
    // Compared as one string: a failure shows no 6,000 rows.
    expect(JSON.stringify(await assignments()) === JSON.stringify(before)).toBe(true);
  });

  it('with --replace, removes and counts the voters not in the file', async () => {
    // 1,000 voters gone, 500 new ones, 10 moved to another station.
    const summary = await importText(text(voterLines(1_000, ROWS + 500, (i, l) => (i < 1_010 ? l.replace(/,(\d)$/, (_m, s: string) => `,${3 - Number(s)}`) : l))), true);
    expect(summary).toEqual({ kind: 'voters', rows: ROWS - 500, voters: ROWS - 500, changed: 510, removed: 1_000 });
    expect(await voters()).toBe(ROWS - 500);
  });

  it('runs an upload from the console in the worker: progress, the outcome, the audit row, and no file left', async () => {
    // Streamed (no Content-Length), and more than one stored chunk.
    const body = text(voterLines(0, 12_000));
    expect(body.length).toBeGreaterThan(CHUNK_BYTES);
    const res = await upload(Readable.toWeb(Readable.from([body])) as ReadableStream, '?replace=1');
    expect(res.status).toBe(202);
    const started = (await res.json()) as { id: string; status: string };
    expect(started.status).toBe('queued');
    const done = await finished(started.id);
    expect(done).toMatchObject({ status: 'done', statusLabel: 'terminé', kindLabel: 'électeurs', rows: 12_000, who: 'amina', problems: [] });
    expect(done.message).toBe('Importé : 12\u202f000 électeurs (12\u202f000 lignes) ; 6\u202f510 ajoutés ou déplacés ; 0 électeur supprimé.');
    expect(await voters()).toBe(12_000);
    const row = await h.ctx.db.selectFrom('station_imports').selectAll().where('id', '=', started.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'done', kind: 'voters', replace: true, user_name: 'amina', attempts: 1, bytes: Buffer.byteLength(body) });
    expect(await h.ctx.db.selectFrom('station_import_chunks').select('seq').execute()).toEqual([]);
    const audited = await h.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'import_stations').execute();
    expect(audited).toEqual([expect.objectContaining({ user_name: 'amina', user_id: admin.id, target: 'voters', detail: '12\u202f000 électeurs, 0 électeur supprimé' })]);
    // The worker's last report, read by the page while it ran.
    expect((await h.ctx.stationImports.queue.getJob(`import-${started.id}`))?.progress).toEqual({ kind: 'voters', rows: 12_000 });
  });

  it('fails a console upload with bad rows, once, with its problems and without the file', async () => {
    const res = await upload(text(voterLines(0, 50, (i, l) => (i === 30 ? l.replace(/,T-\d+,/, ',NOPE,') : l))));
    const { id } = (await res.json()) as { id: string };
    const failed = await finished(id);
    expect(failed).toMatchObject({ status: 'failed', statusLabel: 'échoué', message: 'Refusé : 1 problème, rien n’a été importé.', problems: ['ligne 32, centre_code : centre inconnu : importez d’abord les bureaux'] });
    const job = await h.ctx.stationImports.queue.getJob(`import-${id}`);
    expect([await job?.getState(), job?.attemptsMade]).toEqual(['failed', 1]);
    expect(await h.ctx.db.selectFrom('station_import_chunks').select('seq').execute()).toEqual([]);
    expect(await voters()).toBe(12_000);
    const audited = await h.ctx.db.selectFrom('audit_log').select(['target', 'detail']).where('action', '=', 'import_stations').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(audited).toEqual({ target: 'voters', detail: 'refusé : 1 problème, rien n’a été importé' });
  });

  it('queues an upload that arrived while Redis was away, from the relay', async () => {
    const enqueue = jest.spyOn(h.ctx.stationImports, 'enqueue').mockRejectedValueOnce(new Error('Connection is closed.'));
    const res = await upload(text(stationLines()));
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(enqueue).toHaveBeenCalledTimes(1);
    enqueue.mockRestore();
    await expect(finished(id)).resolves.toMatchObject({ status: 'done', message: 'Importé : 256 centres, 512 bureaux (512 lignes).' });
  });

  // PGlite has one connection: nothing else can hold the lock meanwhile, so the case exists on PostgreSQL only.
  if (!pglite) it('waits, without spending an attempt, while another import holds the lock', async () => {
    const other = new pg.Client({ connectionString: h.databaseUrl });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(`select pg_advisory_xact_lock(hashtext('kalata.station-import'))`);
      const { id } = (await (await upload(text(stationLines()))).json()) as { id: string };
      const job = () => h.ctx.stationImports.queue.getJob(`import-${id}`);
      await waitFor('a try, put back', async () => (await job())?.getState(), (state) => state === 'delayed');
      await waitFor('the page to say it waits', () => view(id), (v) => v.status === 'queued' && v.message === 'En attente du traitement.');
      await other.query('commit');
      await expect(finished(id)).resolves.toMatchObject({ status: 'done' });
      // Tried more than once, and one attempt spent: the last.
      expect((await job())?.attemptsStarted).toBeGreaterThan(1);
      expect((await job())?.attemptsMade).toBe(1);
      expect((await getImport(h.ctx.db, id))?.attempts).toBe(1);
    } finally {
      await other.end();
    }
  });

  it('checks the role and the token before reading a byte, caps the size, and forgets a cut-off upload', async () => {
    const operator = await addUser(h.ctx.db, `awa-${pglite ? 1 : 2}`, 'operator', PASSWORD);
    const theirs = await openSession(h.ctx.db, operator, SESSION_TTL_MS);
    const asOperator = await upload('nina,centre_code,station\n', '', { cookie: `kalata=${theirs.token}`, 'x-csrf-token': theirs.csrfToken });
    expect(asOperator.status).toBe(403);
    const noToken = await upload('nina,centre_code,station\n', '', { 'x-csrf-token': 'forged' });
    expect([noToken.status, await noToken.text()]).toEqual([403, 'Jeton de formulaire absent ou périmé : rechargez la page et recommencez.']);
    const form = await upload('csv=x', '', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    // Refused on its declared length, before its body.
    const headers = { cookie, 'x-csrf-token': csrf, 'content-type': 'text/csv', 'content-length': String(200 * 1024 * 1024) };
    const pending = request(`${h.base}/stations/import`, { method: 'POST', headers });
    pending.write('nina,centre_code,station\n');
    const [answer] = (await once(pending, 'response')) as [IncomingMessage];
    expect(answer.statusCode).toBe(413);
    pending.destroy();
    // Cut off mid-way: failed as interrupted, and what was stored of it deleted.
    const cut = request(`${h.base}/stations/import`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'text/csv' } });
    cut.on('error', () => undefined);
    cut.write(Buffer.alloc(CHUNK_BYTES + 1000, 'a'));
    const receiving = await waitFor('a chunk stored', () => h.ctx.db.selectFrom('station_import_chunks').select('import_id').executeTakeFirst(), (c) => c !== undefined);
    cut.destroy();
    const ended = await waitFor('the upload to fail', () => getImport(h.ctx.db, String(receiving!.import_id)), (i) => i?.status === 'failed');
    expect(ended).toMatchObject({ failure: 'interrupted' });
    expect(await h.ctx.db.selectFrom('station_import_chunks').select('seq').execute()).toEqual([]);
    const id = await createImport(h.ctx.db, admin, false);
    await expect(storeUpload(h.ctx.db, id, Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), 1000)).rejects.toBeInstanceOf(UploadTooLargeError);
    const count = await h.ctx.db.selectFrom('station_imports').select((eb) => eb.fn.countAll<string>().as('n')).where('user_name', '=', `awa-${pglite ? 1 : 2}`).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });
});

describe('memory', () => {
  it('stays flat: 200,000 voters import in a 40 MB heap (the whole-file import needed over 128 MB)', async () => {
    const h = await startHarness('station-import-memory', { context: { worker: false } });
    try {
      await importStationsCsv(h.ctx.db, csvText(text(stationLines())), { replace: false, key: h.ctx.secrets.phoneHashKey });
      const dir = mkdtempSync(join(tmpdir(), 'kalata-voters-'));
      const file = join(dir, 'voters.csv');
      const out = createWriteStream(file);
      for (const line of voterLines(0, 200_000)) if (!out.write(`${line}\n`)) await once(out, 'drain');
      out.end();
      await once(out, 'finish');
      // The harness's keys: the database knows them (a command with other keys may be refused).
      const { phoneHashKey, dataEncryptionKey } = h.ctx.secrets;
      const env = { ...process.env, DATABASE_URL: h.databaseUrl!, DATA_DIR: dir, LOG_LEVEL: 'warn', PHONE_HASH_KEY: phoneHashKey, DATA_ENCRYPTION_KEY: dataEncryptionKey };
      const child = spawn(process.execPath, ['--max-old-space-size=40', '--import', 'tsx', 'src/main/stations.ts', 'import', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect([code, output.trim()]).toEqual([0, expect.stringMatching(/^imported 200000 voters' assignments .* from 200000 rows$/)]);
      expect(Number((await sql<{ n: string }>`select count(*) as n from voter_assignments`.execute(h.ctx.db)).rows[0]!.n)).toBe(200_000);
    } finally {
      await h.close();
    }
  }, 60_000);
});
