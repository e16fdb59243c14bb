/**
 * What the console reads and changes: calls with filters, a call's
 * transcript, reports and their status workflow, SMS, and the figures for
 * the analytics page. Every filter is a bound parameter.
 */
import { sql } from 'kysely';
import type { Db } from './database.js';

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
}

export async function listReports(db: Db, f: ReportFilters) {
  const page = Math.max(1, f.page ?? 1);
  let q = db.selectFrom('reports').select(['id', 'ref', 'created_at', 'incident', 'region', 'status', 'language', 'fields', 'contact', 'simulated']);
  if (!f.simulated) q = q.where('simulated', '=', false);
  if (f.region) q = q.where('region', '=', f.region);
  if (f.incident) q = q.where('incident', '=', f.incident);
  if (f.status) q = q.where('status', '=', f.status);
  if (f.from) q = q.where('created_at', '>=', new Date(f.from));
  if (f.to) q = q.where('created_at', '<', new Date(new Date(f.to).getTime() + 24 * 3600 * 1000));
  const rows = await q.orderBy('created_at', 'desc').limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE).execute();
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

/** Moves a report along the workflow; returns false if the move is not allowed. */
export async function changeReportStatus(db: Db, id: string, to: string, who: string, note: string | null): Promise<{ ok: boolean; from?: string }> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('reports').select('status').where('id', '=', id).forUpdate().executeTakeFirst();
    if (!current) return { ok: false };
    const allowed = to === current.status ? note !== null : REPORT_TRANSITIONS[current.status]?.includes(to);
    if (!allowed) return { ok: false, from: current.status };
    await trx.updateTable('reports').set({ status: to }).where('id', '=', id).execute();
    await trx.insertInto('report_events').values({ report_id: id, user_name: who, from_status: current.status, to_status: to, note }).execute();
    return { ok: true, from: current.status };
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

export async function analytics(db: Db, sinceHours = 48) {
  const since = new Date(Date.now() - sinceHours * 3600 * 1000);
  const perHour = await db
    .selectFrom('calls')
    .select([sql<Date>`date_trunc('hour', started_at)`.as('hour'), (eb) => eb.fn.countAll<string>().as('n')])
    .where('started_at', '>=', since)
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .execute();
  const languages = await db.selectFrom('calls').select(['language', (eb) => eb.fn.countAll<string>().as('n')]).where('started_at', '>=', since).groupBy('language').execute();
  // Topics: the screens callers opened, one count per call.
  const topics = await db
    .selectFrom('call_steps')
    .innerJoin('calls', 'calls.id', 'call_steps.call_id')
    .select(['call_steps.node', sql<string>`count(distinct call_steps.call_id)`.as('n')])
    .where('calls.started_at', '>=', since)
    .groupBy('call_steps.node')
    .orderBy(sql`2`, 'desc')
    .execute();
  const regions = await db.selectFrom('reports').select(['region', (eb) => eb.fn.countAll<string>().as('n')]).where('created_at', '>=', since).where('simulated', '=', false).groupBy('region').orderBy(sql`2`, 'desc').execute();
  const incidents = await db.selectFrom('reports').select(['incident', (eb) => eb.fn.countAll<string>().as('n')]).where('created_at', '>=', since).where('simulated', '=', false).groupBy('incident').orderBy(sql`2`, 'desc').execute();
  return {
    /** hours as instants: the console labels them in its own time zone */
    perHour: perHour.map((r) => ({ hour: new Date(r.hour), n: Number(r.n) })),
    languages: languages.map((r) => ({ label: r.language, n: Number(r.n) })),
    topics: topics.map((r) => ({ label: r.node, n: Number(r.n) })),
    regions: regions.map((r) => ({ label: r.region ?? '?', n: Number(r.n) })),
    incidents: incidents.map((r) => ({ label: r.incident ?? '?', n: Number(r.n) })),
  };
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
