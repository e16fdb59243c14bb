/**
 * What the console reads and changes: calls with filters, a call's
 * transcript, reports and their status workflow, SMS, and the figures for
 * the analytics page. Every filter is a bound parameter.
 */
import { sql } from 'kysely';
import type { Db } from './database.js';
import { NO_TRIAGE, type Triage } from '../flows/triage.js';
import { CLAIM_ENDS_AT, OPEN_STATUSES } from './triage-store.js';

export const PAGE_SIZE = 50;

export interface CallFilters {
  from?: string;
  to?: string;
  lang?: string;
  outcome?: string;
  network?: string;
  node?: string;
  /** seconds */
  minDuration?: number;
  page?: number;
}

function callsQuery(db: Db, f: CallFilters) {
  let q = db.selectFrom('calls');
  if (f.from) q = q.where('started_at', '>=', new Date(f.from));
  if (f.to) q = q.where('started_at', '<', new Date(new Date(f.to).getTime() + 24 * 3600 * 1000));
  if (f.lang) q = q.where('language', '=', f.lang);
  if (f.outcome === 'open') q = q.where('outcome', 'is', null);
  else if (f.outcome) q = q.where('outcome', '=', f.outcome);
  if (f.network) q = q.where('network_code', '=', f.network);
  if (f.node) q = q.where((eb) => eb.exists(eb.selectFrom('call_steps').select('seq').whereRef('call_steps.call_id', '=', 'calls.id').where('call_steps.node', '=', f.node!)));
  if (f.minDuration) q = q.where(sql<number>`extract(epoch from (updated_at - started_at))`, '>=', f.minDuration);
  return q;
}

export async function listCalls(db: Db, f: CallFilters, limit = PAGE_SIZE) {
  const page = Math.max(1, f.page ?? 1);
  const rows = await callsQuery(db, f)
    .select(['id', 'started_at', 'updated_at', 'language', 'outcome', 'network_code', 'service_code', 'phone_masked', 'last_node', 'steps', 'channel'])
    .orderBy('started_at', 'desc')
    .limit(limit + 1)
    .offset((page - 1) * limit)
    .execute();
  return { rows: rows.slice(0, limit), page, hasNext: rows.length > limit };
}

export async function callTranscript(db: Db, id: string) {
  const call = await db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
  if (!call) return undefined;
  const steps = await db.selectFrom('call_steps').selectAll().where('call_id', '=', id).orderBy('seq').execute();
  const reports = await db.selectFrom('reports').select(['id', 'ref']).where('call_id', '=', id).execute();
  return { call, steps, reports };
}

export async function countsForDashboard(db: Db) {
  const hourAgo = new Date(Date.now() - 3600 * 1000);
  const row = await db
    .selectNoFrom((eb) => [
      eb.selectFrom('calls').select((e) => e.fn.countAll<string>().as('n')).where('started_at', '>=', hourAgo).as('calls_hour'),
      eb.selectFrom('reports').select((e) => e.fn.countAll<string>().as('n')).where('status', '=', 'new').where('simulated', '=', false).as('reports_new'),
      eb.selectFrom('reports').select((e) => e.fn.countAll<string>().as('n')).where('created_at', '>=', hourAgo).where('simulated', '=', false).as('reports_hour'),
      eb.selectFrom('sms_outbox').select((e) => e.fn.countAll<string>().as('n')).where('status', '=', 'failed').as('sms_failed'),
    ])
    .executeTakeFirstOrThrow();
  return {
    callsLastHour: Number(row.calls_hour ?? 0),
    reportsNew: Number(row.reports_new ?? 0),
    reportsLastHour: Number(row.reports_hour ?? 0),
    smsFailed: Number(row.sms_failed ?? 0),
  };
}

/** The status workflow: new → verifying → verified / dismissed → escalated. */
export const REPORT_TRANSITIONS: Record<string, readonly string[]> = {
  new: ['verifying', 'dismissed'],
  verifying: ['verified', 'dismissed'],
  verified: ['escalated'],
  dismissed: ['verifying'],
  escalated: [],
};

export interface ReportFilters {
  region?: string;
  incident?: string;
  status?: string;
  from?: string;
  to?: string;
  page?: number;
  /** also the simulator's test reports (left out by default) */
  simulated?: boolean;
  /** `mine`: the reports `who` holds; `none`: open reports nobody holds; `taken`: reports someone holds */
  claim?: 'mine' | 'none' | 'taken';
  /** the signed-in account, for `claim: 'mine'` */
  who?: string;
  /** `priority` (default): open reports first, urgent first, then oldest first; `recent`: newest first */
  sort?: 'priority' | 'recent';
}

const inList = (values: readonly string[]) => (values.length ? sql`reports.incident in (${sql.join(values.map((v) => sql`${v}`))})` : sql`false`);

/**
 * A report's priority in SQL: the one set by hand, or the one its incident
 * type gives in flows/triage.yaml (`urgent`, `low`, otherwise `normal`).
 */
export function prioritySql(triage: Triage) {
  return sql<string>`coalesce(reports.priority, case when ${inList(triage.urgent)} then 'urgent' when ${inList(triage.low)} then 'low' else 'normal' end)`;
}

/**
 * The reports list. By default it is the triage queue: reports still to work
 * on (new, verifying) before the finished ones, urgent before normal before
 * low, and the oldest first, so that nobody's report waits behind later ones.
 */
export async function listReports(db: Db, f: ReportFilters, triage: Triage = NO_TRIAGE) {
  const page = Math.max(1, f.page ?? 1);
  const priority = prioritySql(triage);
  let q = db
    .selectFrom('reports')
    .select(['id', 'ref', 'created_at', 'incident', 'region', 'status', 'language', 'fields', 'recorded', 'contact', 'simulated', 'claimed_by', 'claimed_at', 'priority'])
    .select(priority.as('effective_priority'));
  if (!f.simulated) q = q.where('simulated', '=', false);
  if (f.region) q = q.where('region', '=', f.region);
  if (f.incident) q = q.where('incident', '=', f.incident);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.from) q = q.where('created_at', '>=', new Date(f.from));
  if (f.to) q = q.where('created_at', '<', new Date(new Date(f.to).getTime() + 24 * 3600 * 1000));
  if (f.claim === 'mine') q = q.where('claimed_by', '=', f.who ?? '');
  else if (f.claim === 'none') q = q.where('claimed_by', 'is', null).where('status', 'in', OPEN_STATUSES);
  else if (f.claim === 'taken') q = q.where('claimed_by', 'is not', null);
  q =
    f.sort === 'recent'
      ? q.orderBy('created_at', 'desc').orderBy('id', 'desc')
      : q
          .orderBy(sql`case when reports.status in (${sql.join(OPEN_STATUSES.map((v) => sql`${v}`))}) then 0 else 1 end`)
          .orderBy(sql`case ${priority} when 'urgent' then 0 when 'normal' then 1 else 2 end`)
          .orderBy('created_at', 'asc')
          .orderBy('id', 'asc');
  const rows = await q.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE).execute();
  return { rows: rows.slice(0, PAGE_SIZE), page, hasNext: rows.length > PAGE_SIZE };
}

export async function reportDetail(db: Db, id: string) {
  const report = await db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!report) return undefined;
  const history = await db.selectFrom('report_events').selectAll().where('report_id', '=', id).orderBy('id').execute();
  const call = report.call_id ? await db.selectFrom('calls').select(['id', 'phone_masked', 'started_at']).where('id', '=', report.call_id).executeTakeFirst() : undefined;
  const sms = await db.selectFrom('sms_outbox').select(['id', 'kind', 'template', 'vars', 'text', 'status', 'delivery_status', 'created_at']).where('ref', '=', report.ref).orderBy('id').execute();
  return { report, history, call, sms };
}

/** Who acts on a report: the signed-in account. */
export interface Actor {
  name: string;
  role: string;
}

export type StatusChange =
  | {
      ok: true;
      from: string;
      /** the report became the actor's (it was open and nobody held it) */
      claimed: boolean;
      /** the report reached a final status: whoever held it no longer does */
      released: boolean;
      /** a note with no change of status */
      noteOnly: boolean;
    }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'not_allowed'; from: string }
  | { ok: false; reason: 'held'; from: string; holder: string; since: Date };

/**
 * Moves a report along the workflow (REPORT_TRANSITIONS), with the claims:
 * - nobody holds it: anyone may change it, and a report left open (new,
 *   verifying) becomes theirs, so that two operators do not both pick it up;
 * - the actor holds it: allowed;
 * - another operator holds it: refused (`held`, with who and since when),
 *   unless the actor is an admin (a supervisor's decision, audited by the
 *   route), in which case the holder keeps it while it stays open;
 * - a final status (verified, dismissed, escalated) ends whoever's claim.
 * The same status with a note adds the note only (anyone may, as with
 * addReportNote).
 */
export async function changeReportStatus(db: Db, id: string, to: string, who: Actor, note: string | null): Promise<StatusChange> {
  return db.transaction().execute(async (trx): Promise<StatusChange> => {
    const current = await trx.selectFrom('reports').select(['status', 'claimed_by', 'claimed_at']).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) return { ok: false, reason: 'missing' };
    const from = current.status;
    if (to === from) {
      if (note === null) return { ok: false, reason: 'not_allowed', from };
      await trx.insertInto('report_events').values({ report_id: id, user_name: who.name, kind: 'note', note }).execute();
      return { ok: true, from, claimed: false, released: false, noteOnly: true };
    }
    if (!REPORT_TRANSITIONS[from]?.includes(to)) return { ok: false, reason: 'not_allowed', from };
    const holder = current.claimed_by;
    if (holder && holder !== who.name && who.role !== 'admin') return { ok: false, reason: 'held', from, holder, since: current.claimed_at! };
    const ends = CLAIM_ENDS_AT.includes(to);
    const claims = !holder && !ends && OPEN_STATUSES.includes(to);
    if (claims) await trx.insertInto('report_events').values({ report_id: id, user_name: who.name, kind: 'claim' }).execute();
    await trx
      .updateTable('reports')
      .set({ status: to, ...(claims ? { claimed_by: who.name, claimed_at: sql<Date>`now()` } : {}), ...(ends ? { claimed_by: null, claimed_at: null } : {}) })
      .where('id', '=', id)
      .execute();
    await trx.insertInto('report_events').values({ report_id: id, user_name: who.name, kind: 'status', from_status: from, to_status: to, note }).execute();
    const released = ends && holder !== null;
    if (released) await trx.insertInto('report_events').values({ report_id: id, user_name: holder, kind: 'release', detail: 'final' }).execute();
    return { ok: true, from, claimed: claims, released, noteOnly: false };
  });
}

/** The latest SMS sent and received, a page at a time; `status` keeps only the outgoing ones in that state. */
export async function listSms(db: Db, page = 1, status?: string) {
  let sent = db.selectFrom('sms_outbox');
  if (status) sent = sent.where('status', '=', status);
  const outbox = await sent
    .select(['id', 'created_at', 'kind', 'ref', 'language', 'template', 'vars', 'text', 'status', 'transport', 'attempts', 'delivery_status', 'failure_reason', 'segments', 'cost'])
    .orderBy('id', 'desc')
    .limit(PAGE_SIZE)
    .offset((Math.max(1, page) - 1) * PAGE_SIZE)
    .execute();
  const inbox = await db
    .selectFrom('sms_inbound')
    .select(['id', 'received_at', 'text', 'keyword', 'reply_id'])
    .orderBy('id', 'desc')
    .limit(PAGE_SIZE)
    .execute();
  return { outbox, inbox };
}

export async function smsDetail(db: Db, id: string) {
  const message = await db
    .selectFrom('sms_outbox')
    .select(['id', 'created_at', 'kind', 'ref', 'language', 'template', 'vars', 'text', 'status', 'transport', 'attempts', 'delivery_status', 'failure_reason', 'segments', 'encoding', 'cost', 'gateway_message_id', 'sent_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!message) return undefined;
  const events = await db.selectFrom('sms_events').select(['created_at', 'status', 'detail']).where('message_id', '=', id).orderBy('id').execute();
  return { message, events };
}

export interface AuditFilters {
  action?: string;
  /** the account's name, exactly */
  user?: string;
  from?: string;
  to?: string;
  /** rows older than this id (the next page) */
  before?: string;
}

/** The audit log, newest first, a page at a time: paged by id, so the thousandth page costs what the first does. */
export async function listAudit(db: Db, f: AuditFilters, limit = PAGE_SIZE) {
  let q = db.selectFrom('audit_log').selectAll();
  if (f.action) q = q.where('action', '=', f.action);
  if (f.user) q = q.where('user_name', '=', f.user);
  if (f.from) q = q.where('created_at', '>=', new Date(f.from));
  if (f.to) q = q.where('created_at', '<', new Date(new Date(f.to).getTime() + 24 * 3600 * 1000));
  if (f.before) q = q.where('id', '<', f.before);
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  return { rows: rows.slice(0, limit), next: rows.length > limit ? rows[limit - 1]!.id : undefined };
}

/** Names of the accounts that appear in the audit log, for its filter. */
export async function auditUsers(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('users').select('name').orderBy('name').execute();
  return rows.map((r) => r.name);
}

export async function listFlowVersions(db: Db) {
  return db.selectFrom('flow_versions').selectAll().orderBy('published_at', 'desc').limit(50).execute();
}
