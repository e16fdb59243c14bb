/**
 * `GET /reports/:id/recording/:field` (operators): plays what a caller said
 * on the voice line (a report's place or description, never transcribed).
 * The audio stays at the gateway (Africa's Talking keeps it at the address
 * its callback gave); this route fetches it for the operator's browser,
 * since the console's CSP plays only its own origin. Only a field the report
 * marks as recorded is fetched, over http(s), without following redirects,
 * never from a private, loopback or link-local address (unless listed in
 * VOICE_RECORDING_HOSTS), within 15 s and 20 MB. Every play is audited.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { RequestHandler } from 'express';
import type { Db } from '../../store/database.js';
import { audit } from '../../store/user-store.js';
import { signedIn } from './console-auth.js';
import { t } from './console-i18n.js';

const MAX_BYTES = 20 * 1024 * 1024;
const ROW_ID = /^\d{1,18}$/;

const privateRanges = new BlockList();
for (const [net, bits] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['127.0.0.0', 8], ['169.254.0.0', 16], ['100.64.0.0', 10], ['0.0.0.0', 8]] as const) privateRanges.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::1', 128], ['fc00::', 7], ['fe80::', 10], ['::', 128]] as const) privateRanges.addSubnet(net, bits, 'ipv6');

/** Whether a host may be fetched from: public, or listed. */
async function reachable(host: string, allowed: ReadonlySet<string>): Promise<boolean> {
  if (allowed.has(host)) return true;
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true }).catch(() => []);
  if (!addresses.length) return false;
  return addresses.every((a) => !privateRanges.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'));
}

export function recordingProxy(db: Db, allowedHosts: readonly string[]): RequestHandler {
  const allowed = new Set(allowedHosts);
  return async (req, res) => {
    const id = String(req.params.id);
    const field = String(req.params.field);
    const report = ROW_ID.test(id) ? await db.selectFrom('reports').select(['ref', 'fields', 'recorded']).where('id', '=', id).executeTakeFirst() : undefined;
    const url = report && report.recorded.includes(field) ? report.fields[field] : undefined;
    if (!report || !url) return void res.status(404).type('text/plain').send(t('Pas d’enregistrement pour ce champ.'));
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return void res.status(404).type('text/plain').send(t('Pas d’enregistrement pour ce champ.'));
    }
    const unavailable = () => res.status(502).type('text/plain').send(t('L’enregistrement ne peut pas être lu chez l’opérateur pour le moment.'));
    if (!['http:', 'https:'].includes(target.protocol) || !(await reachable(target.hostname.replace(/^\[|\]$/g, ''), allowed))) return void unavailable();
    await audit(db, signedIn(res), 'play_recording', report.ref, field);
    let answer: Response;
    try {
      answer = await fetch(target, { redirect: 'manual', signal: AbortSignal.timeout(15_000) });
    } catch {
      return void unavailable();
    }
    const type = answer.headers.get('content-type') ?? '';
    const length = Number(answer.headers.get('content-length') ?? 0);
    if (answer.status !== 200 || !answer.body || (type && !/^(audio\/|application\/octet-stream)/.test(type)) || length > MAX_BYTES) return void unavailable();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > MAX_BYTES) return void unavailable();
      chunks.push(Buffer.from(chunk));
    }
    res.status(200).set({ 'Content-Type': type.startsWith('audio/') ? type : 'audio/mpeg', 'Cache-Control': 'no-store', 'Content-Length': String(size) }).send(Buffer.concat(chunks));
  };
}
