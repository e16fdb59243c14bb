/**
 * Triage by several operators at once (issue 15), against the real app on a
 * real PostgreSQL: 20 accounts claim one report at the same instant and one
 * wins; the queue puts urgent types first, then the oldest; status changes
 * follow the claims; notes, claims and priorities land in the history; and
 * flows/triage.yaml's problems are reported at their line and column.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addUser, openSession, type User } from '../../src/store/user-store.js';
import { SESSION_TTL_MS } from '../../src/web/console/console-auth.js';
import { checkFlows, flowOptions } from '../../src/flows/flow-set.js';
import { formatProblem } from '../../src/flows/problems.js';
import { listReports } from '../../src/store/console-queries.js';
import { currentTriage } from '../../src/flows/triage.js';
import { contentCopy } from '../support/content.js';
import { startHarness, type Harness } from '../support/harness.js';

const PASSWORD = 'a-long-test-password';
let h: Harness;
let content: { FLOWS_DIR: string; LOCALES_DIR: string };
let seq = 0;

interface Account {
  user: User;
  cookie: string;
  csrf: string;
}
const accounts = new Map<string, Account>();

async function account(name: string, role: 'operator' | 'admin' = 'operator'): Promise<Account> {
  const user = await addUser(h.ctx.db, name, role, PASSWORD);
  const s = await openSession(h.ctx.db, user, SESSION_TTL_MS);
  const a = { user, cookie: `kalata=${s.token}`, csrf: s.csrfToken };
  accounts.set(name, a);
  return a;
}

/** A report as the USSD flow files it, `minutesAgo` old. */
async function report(incident: string, minutesAgo = 0, extra: { simulated?: boolean } = {}): Promise<string> {
  seq += 1;
  const row = await h.ctx.db
    .insertInto('reports')
    .values({
      ref: `KA-TRI${String(seq).padStart(4, '0')}`,
      call_id: null,
      phone_hash: null,
      phone_enc: null,
      language: 'fr',
      fields: JSON.stringify({ incident, region: 'bamako', place: `Lieu ${seq}`, description: 'Test' }),
      incident,
      region: 'bamako',
      created_at: new Date(Date.now() - minutesAgo * 60_000),
      ...extra,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function post(who: Account, path: string, fields: Record<string, string> = {}) {
  const res = await fetch(`${h.base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: who.csrf, ...fields }).toString(),
  });
  return { status: res.status, body: await res.text() };
}

async function get(who: Account, path: string) {
  const res = await fetch(`${h.base}${path}`, { headers: { cookie: who.cookie } });
  return { status: res.status, body: await res.text() };
}

const state = (id: string) => h.ctx.db.selectFrom('reports').select(['status', 'claimed_by', 'claimed_at', 'priority']).where('id', '=', id).executeTakeFirstOrThrow();
const history = (id: string) => h.ctx.db.selectFrom('report_events').select(['kind', 'user_name', 'from_status', 'to_status', 'note', 'detail']).where('report_id', '=', id).orderBy('id').execute();
const audited = (action: string, target: string) => h.ctx.db.selectFrom('audit_log').select(['user_name', 'detail']).where('action', '=', action).where('target', '=', target).execute();
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#39;|&rsquo;/g, '’').replace(/\s+/g, ' ');

beforeAll(async () => {
  content = contentCopy('kalata-triage-');
  h = await startHarness('triage', { env: content, context: { worker: false } });
  await account('aissata');
  await account('boubacar');
  await account('moussa', 'admin');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('claims', () => {
  it('20 operators claim one report at the same instant: exactly one holds it, the 19 others are told who and when', async () => {
    const id = await report('vote_buying', 5);
    const racers = await Promise.all(Array.from({ length: 20 }, (_, i) => account(`op${String(i).padStart(2, '0')}`)));
    const started = Date.now();
    const answers = await Promise.all(racers.map((a) => post(a, `/reports/${id}/claim`)));
    const ms = Date.now() - started;
    const won = answers.filter((a) => a.status === 200);
    const lost = answers.filter((a) => a.status === 409);
    console.log(`20 concurrent claims: ${won.length} won, ${lost.length} refused, in ${ms} ms`);
    expect([won.length, lost.length]).toEqual([1, 19]);
    const holder = (await state(id)).claimed_by!;
    expect(racers.map((r) => r.user.name)).toContain(holder);
    for (const l of lost) expect(text(l.body)).toMatch(new RegExp(`Déjà pris par ${holder} à \\d{2}:\\d{2}\\.`));
    expect((await history(id)).filter((e) => e.kind === 'claim')).toEqual([expect.objectContaining({ user_name: holder })]);
    expect(await audited('claim_report', id)).toEqual([expect.objectContaining({ user_name: holder })]);
    // The list shows who has it, for everyone.
    expect(text((await get(accounts.get('aissata')!, '/reports')).body)).toContain(`${holder} depuis`);
  });

  it('the holder releases it; only the holder can; an admin takes one over (audited)', async () => {
    const aissata = accounts.get('aissata')!;
    const boubacar = accounts.get('boubacar')!;
    const moussa = accounts.get('moussa')!;
    const id = await report('card_sale', 3);
    expect((await post(aissata, `/reports/${id}/claim`)).status).toBe(200);
    const notTheirs = await post(boubacar, `/reports/${id}/release`);
    expect(notTheirs.status).toBe(409);
    expect((await state(id)).claimed_by).toBe('aissata');
    expect((await post(aissata, `/reports/${id}/release`)).status).toBe(200);
    expect((await state(id)).claimed_by).toBeNull();
    expect((await post(boubacar, `/reports/${id}/claim`)).status).toBe(200);
    expect((await post(boubacar, `/reports/${id}/takeover`)).status).toBe(403);
    expect((await post(moussa, `/reports/${id}/takeover`)).status).toBe(200);
    expect((await state(id)).claimed_by).toBe('moussa');
    expect(await audited('take_over_report', id)).toEqual([{ user_name: 'moussa', detail: 'repris à boubacar' }]);
    expect((await history(id)).map((e) => [e.kind, e.user_name, e.detail])).toEqual([
      ['claim', 'aissata', null],
      ['release', 'aissata', null],
      ['claim', 'boubacar', null],
      ['takeover', 'moussa', 'boubacar'],
    ]);
  });
});

describe('status changes and claims', () => {
  it('an unclaimed report becomes the changer’s; another’s is refused unless admin; a final status ends the claim', async () => {
    const aissata = accounts.get('aissata')!;
    const boubacar = accounts.get('boubacar')!;
    const moussa = accounts.get('moussa')!;
    const id = await report('proxy_abuse', 2);
    expect((await post(aissata, `/reports/${id}/status`, { status: 'verifying' })).status).toBe(200);
    expect(await state(id)).toMatchObject({ status: 'verifying', claimed_by: 'aissata' });
    const refused = await post(boubacar, `/reports/${id}/status`, { status: 'verified' });
    expect(refused.status).toBe(409);
    expect(text(refused.body)).toMatch(/Déjà pris par aissata à \d{2}:\d{2}\. Seul aissata ou un administrateur peut changer son statut/);
    expect((await state(id)).status).toBe('verifying');
    // A note from someone else is still welcome.
    expect((await post(boubacar, `/reports/${id}/note`, { text: 'Un observateur confirme' })).status).toBe(200);
    // The admin may; a final status ends the claim.
    expect((await post(moussa, `/reports/${id}/status`, { status: 'verified', note: 'Confirmé par la CENI' })).status).toBe(200);
    expect(await state(id)).toMatchObject({ status: 'verified', claimed_by: null, claimed_at: null });
    expect((await post(aissata, `/reports/${id}/claim`)).status).toBe(409);
    expect((await history(id)).map((e) => [e.kind, e.user_name, e.from_status, e.to_status, e.note, e.detail])).toEqual([
      ['claim', 'aissata', null, null, null, null],
      ['status', 'aissata', 'new', 'verifying', null, null],
      ['note', 'boubacar', null, null, 'Un observateur confirme', null],
      ['status', 'moussa', 'verifying', 'verified', 'Confirmé par la CENI', null],
      ['release', 'aissata', null, null, null, 'final'],
    ]);
    // The page says it in words, in order.
    const page = text((await get(aissata, `/reports/${id}`)).body);
    expect(page).toMatch(/Pris en charge .*Statut changé Nouveau → En vérification .*Note .*Un observateur confirme .*Statut changé En vérification → Vérifié .*Rendu fin de la prise en charge : statut final/);
  });

  it('a note alone changes nothing else and is audited', async () => {
    const boubacar = accounts.get('boubacar')!;
    const id = await report('other', 1);
    expect((await post(boubacar, `/reports/${id}/note`, { text: 'Appel du délégué à 21h' })).status).toBe(200);
    expect(await state(id)).toMatchObject({ status: 'new', claimed_by: null });
    expect(await history(id)).toEqual([expect.objectContaining({ kind: 'note', user_name: 'boubacar', note: 'Appel du délégué à 21h' })]);
    expect(await audited('report_note', id)).toHaveLength(1);
    expect((await post(boubacar, `/reports/${id}/note`, { text: '   ' })).status).toBe(400);
  });
});

describe('priorities', () => {
  it('the queue: open before finished, urgent types first, then the oldest; simulated reports left out', async () => {
    await h.ctx.db.deleteFrom('reports').execute();
    const oldNormal = await report('vote_buying', 120);
    const newUrgent = await report('intimidation', 1);
    const oldUrgent = await report('intimidation', 60);
    const midNormal = await report('station_closed', 30);
    const finished = await report('intimidation', 200);
    await h.ctx.db.updateTable('reports').set({ status: 'dismissed' }).where('id', '=', finished).execute();
    await report('intimidation', 500, { simulated: true });
    const triage = currentTriage(content.FLOWS_DIR);
    expect(triage.urgent).toEqual(['intimidation']);
    const ids = (await listReports(h.ctx.db, {}, triage)).rows.map((r) => r.id);
    expect(ids).toEqual([oldUrgent, newUrgent, oldNormal, midNormal, finished]);
    // The page marks urgent ones with a word.
    const body = (await get(accounts.get('aissata')!, '/reports')).body;
    expect(body.match(/class="priority-urgent"/g)).toHaveLength(3);
    expect(text(body)).toContain('⚠ Urgente');
    // Newest first when asked.
    expect((await listReports(h.ctx.db, { sort: 'recent' }, triage)).rows.map((r) => r.id)).toEqual([newUrgent, midNormal, oldUrgent, oldNormal, finished]);
  });

  it('an operator raises or lowers one report by hand (stored, in the history, audited), and the queue follows', async () => {
    const aissata = accounts.get('aissata')!;
    const [first, second] = (await listReports(h.ctx.db, {}, currentTriage(content.FLOWS_DIR))).rows;
    const raised = (await listReports(h.ctx.db, {}, currentTriage(content.FLOWS_DIR))).rows[2]!;
    expect((await post(aissata, `/reports/${raised.id}/priority`, { priority: 'urgent' })).status).toBe(200);
    expect((await post(aissata, `/reports/${first!.id}/priority`, { priority: 'low' })).status).toBe(200);
    expect((await post(aissata, `/reports/${second!.id}/priority`, { priority: 'bogus' })).status).toBe(400);
    expect((await state(raised.id)).priority).toBe('urgent');
    const order = (await listReports(h.ctx.db, {}, currentTriage(content.FLOWS_DIR))).rows.map((r) => r.id);
    // Raised (the oldest) comes first of the urgent ones; lowered goes after the normal ones.
    expect(order.slice(0, 2)).toEqual([raised.id, second!.id]);
    expect(order.indexOf(first!.id)).toBe(order.length - 2);
    expect(await history(raised.id)).toEqual([expect.objectContaining({ kind: 'priority', user_name: 'aissata', detail: 'auto -> urgent' })]);
    expect(await audited('report_priority', raised.id)).toEqual([{ user_name: 'aissata', detail: 'auto -> urgent' }]);
    // Back to automatic.
    expect((await post(aissata, `/reports/${raised.id}/priority`, { priority: 'auto' })).status).toBe(200);
    expect((await state(raised.id)).priority).toBeNull();
  });

  it('« Mes signalements » and « non pris » list the right reports, with counts', async () => {
    const boubacar = accounts.get('boubacar')!;
    const mine = await report('other', 400);
    expect((await post(boubacar, `/reports/${mine}/claim`)).status).toBe(200);
    const page = (await get(boubacar, '/reports?mine=1')).body;
    expect(page).toContain(`/reports/${mine}"`);
    expect((page.match(/<tr class="priority-/g) ?? []).length).toBe(1);
    expect(text(page)).toMatch(/Mes signalements 1/);
    const unclaimed = (await listReports(h.ctx.db, { claim: 'none' }, currentTriage(content.FLOWS_DIR))).rows;
    expect(unclaimed.map((r) => r.id)).not.toContain(mine);
    expect(unclaimed.every((r) => r.claimed_by === null && ['new', 'verifying'].includes(r.status))).toBe(true);
  });
});

describe('flows/triage.yaml', () => {
  it('an unknown incident type is an error at its line and column; a type listed twice too', () => {
    writeFileSync(join(content.FLOWS_DIR, 'triage.yaml'), '# urgent first\nurgent: [intimidation, violence]\nlow:\n  - other\n  - intimidation\n');
    const check = checkFlows({ ...flowOptions(h.ctx.config), flowsDir: content.FLOWS_DIR, localesDir: content.LOCALES_DIR, root: join(content.FLOWS_DIR, '..') });
    const errors = check.problems.filter((p) => p.severity === 'error').map(formatProblem);
    expect(errors).toEqual([
      expect.stringMatching(/^flows\/triage\.yaml:2:24 triage: urgent "violence" is not an incident type of the flows \(vote_buying, intimidation, /),
      'flows/triage.yaml:5:5 triage: "intimidation" is listed twice (urgent and low)',
    ]);
    expect(check.flows).toBeUndefined();
    // The console keeps going with what the file says of the known codes.
    expect(currentTriage(content.FLOWS_DIR).urgent).toEqual(['intimidation', 'violence']);
  });

  it('the shipped file checks', () => {
    const check = checkFlows({ ...flowOptions(h.ctx.config), flowsDir: join(process.cwd(), 'flows'), localesDir: join(process.cwd(), 'locales') });
    expect(check.problems.filter((p) => p.file.endsWith('triage.yaml'))).toEqual([]);
    expect(check.triage).toEqual({ urgent: ['intimidation'], low: [] });
  });
});
