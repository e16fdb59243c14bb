/**
 * SMS by SMPP 3.4 end to end: a real SMPP server in this process (the `smpp`
 * package's createServer, test/support/smsc.ts), the real worker on a real
 * redis-server (BullMQ) and a real PostgreSQL. Bind and a refused bind,
 * short and long messages in GSM-7 and UCS-2 (data_coding, UDH, the parts put
 * back together), receipts, citizens' messages through the inbound handling,
 * a connection dropped during a burst, throttling, permanent refusals,
 * enquire_link, the window and the pace, and the metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import smpp from 'smpp';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { encryptText, pseudonymizePhone } from '../../src/privacy/phone.js';
import { deliveryStatusOf, parseReceipt } from '../../src/sms/smpp/receipts.js';
import { createSmppSession } from '../../src/sms/smpp/smpp-session.js';
import { encodeSmppText } from '../../src/sms/smpp/smpp-text.js';
import { createSmppTransport, mapSubmitStatus } from '../../src/sms/smpp/smpp-transport.js';
import { measureSms, renderSms, SMS_TEXTS } from '../../src/sms/sms-text.js';
import { insertSms } from '../../src/store/sms-store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { smscEnv, SMSC_LOGIN, startTestSmsc, type SmscSubmit, type TestSmsc } from '../support/smsc.js';
import { waitFor } from '../support/wait.js';

const E = smpp.errors;
/** a reply of two UCS-2 parts in Bambara */
const LONG_BM = SMS_TEXTS.stationUnknown;
const quiet = createLogger('silent');

let smsc: TestSmsc;
let h: Harness;

/** Every test number used here: none may appear in any log line. */
const testNumbers = new Set<string>();
const num = (n: number) => {
  const phone = `+2237620${String(n).padStart(4, '0')}`;
  testNumbers.add(phone);
  return phone;
};
const digits = (phone: string) => phone.slice(1);
const receivedBy = (phone: string) => smsc.received.filter((s) => s.to === digits(phone));
const acceptedBy = (phone: string) => smsc.accepted.filter((s) => s.to === digits(phone));

/** Reassembles what the server received for a number: its parts in order, checked for one reference and a full set. */
function reassemble(parts: readonly SmscSubmit[]): string {
  if (parts.length === 1 && !parts[0]!.concat) return parts[0]!.text;
  const refs = new Set(parts.map((p) => p.concat?.reference));
  expect(refs.size).toBe(1);
  const total = parts[0]!.concat!.total;
  expect(parts.map((p) => p.concat!.total)).toEqual(parts.map(() => total));
  const sorted = [...parts].sort((a, b) => a.concat!.index - b.concat!.index);
  expect(sorted.map((p) => p.concat!.index)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  return sorted.map((p) => p.text).join('');
}

async function addMessage(harness: Harness, phone: string, key: string, template: string = SMS_TEXTS.help, language: 'fr' | 'bm' = 'fr'): Promise<string> {
  const id = await insertSms(harness.ctx.db, {
    dedupeKey: `smpp-test:${key}`,
    kind: 'reply',
    ref: null,
    phoneHash: pseudonymizePhone(harness.ctx.secrets.phoneHashKey, phone),
    phoneEnc: encryptText(harness.ctx.secrets.dataEncryptionKey, phone),
    language,
    template,
    vars: {},
  });
  if (!id) throw new Error('not inserted');
  await harness.ctx.sms.enqueue(harness.ctx.db, [id]);
  return id;
}
const outbox = (id: string) => h.ctx.db.selectFrom('sms_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const settled = (id: string, statuses = ['sent', 'failed'], timeoutMs = 15_000) =>
  waitFor(`message ${id} to be ${statuses.join('|')}`, () => outbox(id), (r) => statuses.includes(r.status), timeoutMs);
const eventsOf = (id: string) => h.ctx.db.selectFrom('sms_events').selectAll().where('message_id', '=', id).orderBy('id').execute();

const receipt = (id: string, stat: string, err = '000') => ({
  source_addr: '22376000000',
  source_addr_ton: 1,
  source_addr_npi: 1,
  destination_addr: 'KALATA',
  esm_class: smpp.consts.ESM_CLASS.MC_DELIVERY_RECEIPT,
  data_coding: 0,
  short_message: `id:${id} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:2612011200 done date:2612011201 stat:${stat} err:${err} text:Kalata`,
});
const citizen = (phone: string, text: string, extra: Record<string, unknown> = {}) => ({
  source_addr: digits(phone),
  source_addr_ton: 1,
  source_addr_npi: 1,
  destination_addr: '36123',
  esm_class: 0,
  data_coding: /^[\x20-\x7e]*$/.test(text) ? 0 : 8,
  short_message: text,
  ...extra,
});

beforeAll(async () => {
  smsc = await startTestSmsc();
  h = await startHarness('smpp', {
    env: { ...smscEnv(smsc), SMPP_WINDOW: '4' },
    context: {
      worker: true,
      smsAttempts: 4,
      smsBackoffMs: 100,
      smsRelayEveryMs: 200,
      smpp: { reconnectMinMs: 50, reconnectMaxMs: 200, bindWaitMs: 5000, responseTimeoutMs: 3000, enquireLinkMs: 300, throttledPauseMs: 50, partRetryMs: 50 },
    },
  });
  await h.ctx.smppSession!.whenBound(5000);
});
afterAll(async () => {
  await h?.close();
  await smsc?.close();
});

describe('configuration', () => {
  const base = { SMS_TRANSPORT: 'smpp', SMPP_HOST: 'smsc.example', SMPP_SYSTEM_ID: 'kalata', SMPP_PASSWORD: 'Zq8#kLm2', SMPP_SOURCE_ADDR: 'KALATA' };
  it('Africa\'s Talking unless SMS_TRANSPORT=smpp; SMPP settings with their defaults', () => {
    expect(loadConfig({}).smsTransport).toBe('africastalking');
    expect(loadConfig({}).smpp).toBeUndefined();
    expect(loadConfig(base).smpp).toEqual({ host: 'smsc.example', port: 2775, systemId: 'kalata', password: 'Zq8#kLm2', sourceAddr: 'KALATA', sourceTon: 5, sourceNpi: 0, throughput: 10, window: 10, enquireLinkSeconds: 30 });
    const { SMPP_HOST: _host, ...withoutHost } = base;
    expect(loadConfig({ ...withoutHost, SMPP_URL: 'smpp://10.0.0.5:2776', SMPP_SOURCE_ADDR: '+22336123456' }).smpp).toMatchObject({ host: '10.0.0.5', port: 2776, sourceAddr: '22336123456', sourceTon: 1, sourceNpi: 1 });
    expect(loadConfig({ ...base, SMPP_SOURCE_ADDR: '36123', SMPP_SOURCE_TON: '3', SMPP_THROUGHPUT: '25', SMPP_WINDOW: '50' }).smpp).toMatchObject({ sourceAddr: '36123', sourceTon: 3, sourceNpi: 1, throughput: 25, window: 50 });
  });

  it('one clear line for a missing or invalid setting, never echoing the password', () => {
    const error = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      return 'no error';
    };
    const { SMPP_HOST: _host, ...withoutHost } = base;
    expect(error(withoutHost)).toBe('missing SMPP_HOST: required when SMS_TRANSPORT=smpp (or SMPP_URL=smpp://host:port)');
    expect(error({ ...base, SMPP_PASSWORD: '' })).toBe('missing SMPP_PASSWORD: required when SMS_TRANSPORT=smpp');
    expect(error({ ...base, SMPP_WINDOW: '0' })).toBe('invalid SMPP_WINDOW="0": Too small: expected number to be >=1');
    expect(error({ ...base, SMPP_SYSTEM_ID: 'a-very-long-system-id' })).toMatch(/^invalid SMPP_SYSTEM_ID="a-very-long-system-id": at most 15 characters/);
    expect(error({ ...base, SMPP_URL: 'http://Zq8#kLm2@x' })).toBe('invalid SMPP_URL: must be smpp://host:port');
    expect(error({ ...base, SMS_TRANSPORT: 'kannel' })).toMatch(/^invalid SMS_TRANSPORT="kannel"/);
  });
});

describe('text for SMPP: the encoding and the parts sms-segments-calculator counts', () => {
  const cases: [string, string, 'GSM-7' | 'UCS-2', number][] = [
    ['short French in GSM-7', 'Kalata: message KA-7Q4M2XH enregistré. Répondez STOP pour ne plus recevoir.', 'GSM-7', 1],
    ['exactly 160 septets', 'a'.repeat(160), 'GSM-7', 1],
    ['161 septets', 'a'.repeat(161), 'GSM-7', 2],
    ['an escape pair on the boundary of part 1', `${'a'.repeat(152)}€${'b'.repeat(10)}`, 'GSM-7', 2],
    ['long GSM-7 with the extension table', `Signalez [fraude] {bureau} ~ | ^ \\ € ${'é'.repeat(300)}`, 'GSM-7', 3],
    ['short Bambara in UCS-2', 'Kalata: cikan KA-7Q4M2XH sɔrɔla. Aw ye STOP ci ni aw t’a fɛ.', 'UCS-2', 1],
    ['exactly 70 UCS-2 units', 'ɛ'.repeat(70), 'UCS-2', 1],
    ['71 UCS-2 units', 'ɛ'.repeat(71), 'UCS-2', 2],
    ['a surrogate pair on the boundary of part 1', `${'ɔ'.repeat(66)}😀${'ɲ'.repeat(10)}`, 'UCS-2', 2],
    ['French that is not GSM-7 (ç, ’)', `Ça marche : c’est reçu. ${'ŋ'.repeat(140)}`, 'UCS-2', 3],
  ];
  it.each(cases)('%s', (_name, text, encoding, segments) => {
    const measured = measureSms(text);
    expect([measured.encoding, measured.segments]).toEqual([encoding, segments]);
    const encoded = encodeSmppText(text, 42);
    expect(encoded.encoding).toBe(encoding);
    expect(encoded.dataCoding).toBe(encoding === 'GSM-7' ? 0x00 : 0x08);
    expect(encoded.parts).toHaveLength(segments);
    expect(encoded.texts.join('')).toBe(text);
    for (const [i, part] of encoded.parts.entries()) {
      expect(part.length).toBeLessThanOrEqual(140 + (encoding === 'GSM-7' ? 20 : 0)); // 160 septets unpacked in one part
      if (segments > 1) expect([...part.subarray(0, 6)]).toEqual([0x05, 0x00, 0x03, 42, segments, i + 1]);
    }
  });

  it('for any text, as many parts as the calculator counts, each within 140 octets packed, and the parts join to the text', () => {
    const alphabet = ['a', 'Z', ' ', 'é', 'è', 'à', '€', '[', '^', 'ɛ', 'ɔ', 'ɲ', 'ŋ', 'ç', '😀', '\n', '’'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 500 }), (chars) => {
        const text = chars.join('');
        const encoded = encodeSmppText(text, 7);
        expect(encoded.parts.length).toBe(measureSms(text).segments || 1);
        expect(encoded.texts.join('')).toBe(text);
        for (const part of encoded.parts) {
          const udh = encoded.parts.length > 1 ? 6 : 0;
          const octets = encoded.encoding === 'GSM-7' ? udh + Math.ceil(((part.length - udh) * 7) / 8) : part.length;
          expect(octets).toBeLessThanOrEqual(140);
          // An escape (0x1B) never ends a GSM-7 part: its pair is in the same part.
          if (encoded.encoding === 'GSM-7' && encoded.parts.length > 1) expect(part[part.length - 1]).not.toBe(0x1b);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('receipts and statuses, as text', () => {
  it('parses the SMPP 3.4 receipt text and maps stat to the statuses recorded for Africa\'s Talking', () => {
    expect(parseReceipt('id:5f0000ab sub:001 dlvrd:001 submit date:2612011200 done date:2612011201 stat:DELIVRD err:000 text:Kalata')).toEqual({ messageId: '5f0000ab', stat: 'DELIVRD', err: '000' });
    expect(parseReceipt('', { receiptedMessageId: 'abc', messageState: 5 })).toEqual({ messageId: 'abc', stat: 'UNDELIV', err: null });
    expect(parseReceipt('stat:DELIVRD')).toBeUndefined();
    expect([['DELIVRD', 'Success'], ['EXPIRED', 'Expired'], ['UNDELIV', 'Failed'], ['DELETED', 'Failed'], ['REJECTD', 'Rejected'], ['ENROUTE', 'Sent'], ['ACCEPTD', 'Submitted'], ['UNKNOWN', 'SMPP:UNKNOWN']].map(([stat]) => [stat, deliveryStatusOf(stat!)])).toEqual([
      ['DELIVRD', 'Success'],
      ['EXPIRED', 'Expired'],
      ['UNDELIV', 'Failed'],
      ['DELETED', 'Failed'],
      ['REJECTD', 'Rejected'],
      ['ENROUTE', 'Sent'],
      ['ACCEPTD', 'Submitted'],
      ['UNKNOWN', 'SMPP:UNKNOWN'],
    ]);
  });

  it('maps submit_sm_resp statuses: throttled and system errors retry, an invalid destination is permanent', () => {
    const kind = (status: number) => mapSubmitStatus({ commandStatus: status, messageId: 'x' }).kind;
    expect(kind(E.ESME_ROK!)).toBe('accepted');
    for (const s of [E.ESME_RTHROTTLED, E.ESME_RMSGQFUL, E.ESME_RSYSERR, E.ESME_RSUBMITFAIL, E.ESME_RX_T_APPN, E.ESME_RINVBNDSTS, 0x0400]) expect(kind(s!)).toBe('retry');
    for (const s of [E.ESME_RINVDSTADR, E.ESME_RINVDSTTON, E.ESME_RINVSRCADR, E.ESME_RINVMSGLEN, E.ESME_RX_P_APPN]) expect(kind(s!)).toBe('permanent');
  });
});

describe('the bind', () => {
  it('binds as a transceiver with the system id and password of the environment, SMPP 3.4', () => {
    expect(h.ctx.smppSession!.state).toBe('bound');
    expect(smsc.binds[0]).toEqual({ systemId: 'kalata', password: 'pw4smsc', ok: true, interfaceVersion: 0x34 });
  });

  it('a wrong password is refused: the session says so, sends nothing, and a send is retried later', async () => {
    const before = smsc.received.length;
    const session = createSmppSession({ host: '127.0.0.1', port: smsc.port, systemId: 'kalata', password: 'wrong', logger: quiet, reconnectMinMs: 50, reconnectMaxMs: 100, bindWaitMs: 400 });
    session.start();
    try {
      await waitFor('the bind to be refused', async () => session.state, (s) => s === 'refused');
      expect(session.lastError).toBe('bind refused: ESME_RINVPASWD');
      expect(smsc.binds.some((b) => b.password === 'wrong' && !b.ok)).toBe(true);
      const transport = createSmppTransport({ session, sourceAddr: 'KALATA', sourceTon: 5, sourceNpi: 0, logger: quiet });
      const outcome = await transport.send(num(1), 'Bonjour');
      expect(outcome).toEqual({ kind: 'retry', reason: 'SMPP: bind refused: ESME_RINVPASWD' });
      expect(smsc.received.length).toBe(before);
    } finally {
      await session.close();
    }
    expect(session.state).toBe('closed');
  });

  it('keeps the link alive with enquire_link, and binds again when the SMSC stops answering them', async () => {
    const links = smsc.enquireLinks;
    await waitFor('enquire_link', async () => smsc.enquireLinks, (n) => n >= links + 2);
    const binds = smsc.binds.filter((b) => b.ok).length;
    smsc.answerEnquireLink = false;
    try {
      await waitFor('a new bind', async () => smsc.binds.filter((b) => b.ok).length, (n) => n > binds, 10_000);
    } finally {
      smsc.answerEnquireLink = true;
    }
    await h.ctx.smppSession!.whenBound(5000);
  });
});

describe('sending through the worker', () => {
  it('a short French reply: one submit_sm in GSM-7 (data_coding 0, no UDH, receipt asked), the row records the SMSC id', async () => {
    const phone = num(10);
    const id = await addMessage(h, phone, 'short-fr');
    const row = await settled(id);
    const text = renderSms(h.ctx.flows.live(), 'fr', SMS_TEXTS.help, {}).text;
    expect(receivedBy(phone)).toHaveLength(1);
    const [s] = receivedBy(phone);
    expect(s).toMatchObject({ dataCoding: 0, esmClass: 0, registeredDelivery: 1, sourceAddr: 'KALATA', sourceTon: 5, text });
    expect(s!.concat).toBeUndefined();
    expect(row).toMatchObject({ status: 'sent', transport: 'smpp', text, encoding: 'GSM-7', segments: 1, attempts: 1, gateway_status: 'ESME_ROK', gateway_status_code: 0 });
    expect(row.gateway_message_id).toBe(acceptedBy(phone)[0]!.id);
  });

  it('a long Bambara reply: UCS-2 (data_coding 8) in the parts the calculator counts, with concatenation UDH, and the parts read as the text', async () => {
    const phone = num(11);
    const id = await addMessage(h, phone, 'long-bm', LONG_BM, 'bm');
    const row = await settled(id);
    const rendered = renderSms(h.ctx.flows.live(), 'bm', LONG_BM, {});
    expect(rendered.segments).toBe(2);
    const parts = receivedBy(phone);
    expect(parts).toHaveLength(rendered.segments);
    for (const p of parts) expect(p).toMatchObject({ dataCoding: 8, esmClass: 0x40, registeredDelivery: 1 });
    expect(reassemble(parts)).toBe(rendered.text);
    expect(row).toMatchObject({ status: 'sent', encoding: 'UCS-2', segments: 2, attempts: 1 });
    expect(row.gateway_message_id).toBe(acceptedBy(phone).find((p) => p.concat!.index === 1)!.id);
  });

  it('a long French reply: GSM-7 parts with UDH', async () => {
    const phone = num(12);
    const id = await addMessage(h, phone, 'long-fr', SMS_TEXTS.stationUnknown);
    const row = await settled(id);
    const rendered = renderSms(h.ctx.flows.live(), 'fr', SMS_TEXTS.stationUnknown, {});
    expect([rendered.encoding, rendered.segments]).toEqual(['GSM-7', 2]);
    const parts = receivedBy(phone);
    expect(parts).toHaveLength(2);
    for (const p of parts) expect(p).toMatchObject({ dataCoding: 0, esmClass: 0x40 });
    expect(reassemble(parts)).toBe(rendered.text);
    expect(row).toMatchObject({ status: 'sent', encoding: 'GSM-7', segments: 2 });
  });

  it('short and long texts of both encodings straight through the transport reach the SMSC whole', async () => {
    const texts = [
      'Bureau de vote: École Kati [salle 2] ~ 08h-18h, 5€ ^ {ok} | \\ fin',
      `Signalement reçu. ${'Kalata vous remercie de votre vigilance. '.repeat(6)}`,
      'Aw ni ce! Kalata: aw ka cikan sɔrɔla.',
      `Kalata: ${'ɛ ɔ ɲ ŋ bɛ se ka kɛ. '.repeat(12)}😀`,
    ];
    for (const [i, text] of texts.entries()) {
      const phone = num(20 + i);
      const outcome = await h.ctx.smsTransport.send(phone, text);
      expect(outcome.kind).toBe('accepted');
      const parts = receivedBy(phone);
      expect(parts).toHaveLength(measureSms(text).segments);
      expect(new Set(parts.map((p) => p.dataCoding))).toEqual(new Set([measureSms(text).encoding === 'GSM-7' ? 0 : 8]));
      expect(reassemble(parts)).toBe(text);
    }
  });
});

describe('delivery receipts', () => {
  it('DELIVRD makes the message Success; a later ENROUTE does not undo it; the receipt is answered ESME_ROK', async () => {
    const id = await addMessage(h, num(30), 'receipt-ok');
    const row = await settled(id);
    expect(await smsc.deliver(receipt(row.gateway_message_id!, 'DELIVRD'))).toBe(0);
    await waitFor('Success', () => outbox(id), (r) => r.delivery_status === 'Success');
    expect(await smsc.deliver(receipt(row.gateway_message_id!, 'ENROUTE'))).toBe(0);
    const events = await eventsOf(id);
    await waitFor('the ENROUTE event', () => eventsOf(id), (e) => e.some((x) => x.status === 'delivery:Sent'));
    expect((await outbox(id)).delivery_status).toBe('Success');
    expect(events.map((e) => e.status)).toContain('delivery:Success');
  });

  it('UNDELIV (and message_state in TLVs) makes it Failed with the SMSC\'s error; a receipt in decimal for a hex id still matches', async () => {
    const a = await settled(await addMessage(h, num(31), 'receipt-undeliv'));
    expect(await smsc.deliver(receipt(a.gateway_message_id!, 'UNDELIV', '034'))).toBe(0);
    const failed = await waitFor('Failed', () => outbox(a.id), (r) => r.delivery_status === 'Failed');
    expect(failed.failure_reason).toBe('SMPP UNDELIV err:034');

    const b = await settled(await addMessage(h, num(32), 'receipt-tlv'));
    expect(await smsc.deliver({ ...receipt('', 'X'), short_message: '', receipted_message_id: b.gateway_message_id!, message_state: smpp.consts.MESSAGE_STATE.EXPIRED })).toBe(0);
    await waitFor('Expired', () => outbox(b.id), (r) => r.delivery_status === 'Expired');

    const c = await settled(await addMessage(h, num(33), 'receipt-decimal'));
    expect(await smsc.deliver(receipt(BigInt(`0x${c.gateway_message_id!}`).toString(10), 'DELIVRD'))).toBe(0);
    await waitFor('Success by the decimal id', () => outbox(c.id), (r) => r.delivery_status === 'Success');
  });

  it('a message of two parts is Success when both parts are delivered, Failed as soon as one part fails', async () => {
    const phoneA = num(34);
    const a = await settled(await addMessage(h, phoneA, 'receipt-parts-ok', LONG_BM, 'bm'));
    const partsA = acceptedBy(phoneA).sort((x, y) => x.concat!.index - y.concat!.index);
    expect(partsA).toHaveLength(2);
    expect(a.gateway_message_id).toBe(partsA[0]!.id);
    expect(await smsc.deliver(receipt(partsA[1]!.id, 'DELIVRD'))).toBe(0);
    await waitFor('the part receipt', () => h.ctx.db.selectFrom('sms_events').selectAll().where('gateway_message_id', '=', `smpp-part:${partsA[1]!.id}`).execute(), (e) => e.length === 2);
    expect((await outbox(a.id)).delivery_status).toBeNull();
    expect(await smsc.deliver(receipt(partsA[0]!.id, 'DELIVRD'))).toBe(0);
    await waitFor('Success once both parts are delivered', () => outbox(a.id), (r) => r.delivery_status === 'Success');

    const phoneB = num(35);
    const b = await settled(await addMessage(h, phoneB, 'receipt-parts-fail', LONG_BM, 'bm'));
    const partsB = acceptedBy(phoneB).sort((x, y) => x.concat!.index - y.concat!.index);
    expect(await smsc.deliver(receipt(partsB[0]!.id, 'DELIVRD'))).toBe(0);
    expect(await smsc.deliver(receipt(partsB[1]!.id, 'UNDELIV', '001'))).toBe(0);
    const row = await waitFor('Failed', () => outbox(b.id), (r) => r.delivery_status === 'Failed');
    expect(row.failure_reason).toBe('part 2/2: SMPP UNDELIV err:001');
  });

  it('a receipt for an id nobody sent is acknowledged and kept as an event of no message', async () => {
    expect(await smsc.deliver(receipt('deadbeefcafe', 'DELIVRD'))).toBe(0);
    await waitFor('the unknown receipt', () => h.ctx.db.selectFrom('sms_events').selectAll().where('gateway_message_id', '=', 'deadbeefcafe').execute(), (e) => e.length === 1 && e[0]!.message_id === null);
  });
});

describe('citizens\' messages (deliver_sm without the receipt bit)', () => {
  const inboundOf = (phone: string) => h.ctx.db.selectFrom('sms_inbound').selectAll().where('phone_hash', '=', pseudonymizePhone(h.ctx.secrets.phoneHashKey, phone)).orderBy('id').execute();

  it('AIDE gets the help reply, through the same handling as Africa\'s Talking\'s callback', async () => {
    const phone = num(40);
    expect(await smsc.deliver(citizen(phone, 'AIDE'))).toBe(0);
    const [row] = await waitFor('the inbound row', () => inboundOf(phone), (r) => r.length === 1);
    expect(row).toMatchObject({ keyword: 'help', text: 'AIDE', to_code: '36123' });
    expect(row!.gateway_id).toMatch(/^smpp:[A-Za-z0-9_-]{22}:\d+$/);
    await waitFor('the reply at the SMSC', async () => receivedBy(phone), (r) => r.length === 1);
    expect(receivedBy(phone)[0]!.text).toBe(renderSms(h.ctx.flows.live(), 'fr', SMS_TEXTS.help, {}).text);
  });

  it('a sender in national form (TON 2) is read in DEFAULT_COUNTRY: the reply goes to its E.164 number', async () => {
    const phone = num(45);
    expect(await smsc.deliver(citizen(phone, 'AIDE', { source_addr: phone.slice(4), source_addr_ton: 2 }))).toBe(0);
    await waitFor('the reply at the SMSC', async () => receivedBy(phone), (r) => r.length === 1);
    expect(await inboundOf(phone)).toHaveLength(1);
  });

  it('STOP opts the number out (and is acknowledged); a follow-up to it is then not sent', async () => {
    const phone = num(41);
    expect(await smsc.deliver(citizen(phone, 'STOP'))).toBe(0);
    await waitFor('the opt-out', () => h.ctx.db.selectFrom('sms_optouts').selectAll().where('phone_hash', '=', pseudonymizePhone(h.ctx.secrets.phoneHashKey, phone)).execute(), (r) => r.length === 1);
    await waitFor('the STOP acknowledgement', async () => receivedBy(phone), (r) => r.length === 1);
    const id = await addMessage(h, phone, 'after-stop');
    expect((await settled(id, ['opted_out', 'sent', 'failed'])).status).toBe('opted_out');
    expect(receivedBy(phone)).toHaveLength(1);
  });

  it('the same deliver_sm delivered again (the SMSC missed our answer) is recorded once and answered once; STOP, START, STOP stay three', async () => {
    const phone = num(42);
    const pdu = citizen(phone, 'Il y a des billets distribués au bureau 12');
    expect(await smsc.deliver(pdu)).toBe(0);
    expect(await smsc.deliver(pdu)).toBe(0);
    expect(await smsc.deliver(pdu)).toBe(0);
    const rows = await waitFor('the inbound row', () => inboundOf(phone), (r) => r.length >= 1);
    await waitFor('the reply', async () => receivedBy(phone), (r) => r.length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await inboundOf(phone)).toHaveLength(1);
    expect(rows[0]!.keyword).toBeNull();
    expect(receivedBy(phone)).toHaveLength(1);

    const other = num(43);
    for (const word of ['STOP', 'START', 'STOP']) expect(await smsc.deliver(citizen(other, word))).toBe(0);
    const three = await waitFor('three messages', () => inboundOf(other), (r) => r.length === 3);
    expect(three.map((r) => r.keyword)).toEqual(['stop', 'start', 'stop']);
    expect(await h.ctx.db.selectFrom('sms_optouts').selectAll().where('phone_hash', '=', pseudonymizePhone(h.ctx.secrets.phoneHashKey, other)).execute()).toHaveLength(1);
  });

  it('a long message in two UCS-2 parts (UDH) is put back together and handled once', async () => {
    const phone = num(44);
    const udh = (i: number) => Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, i]);
    expect(await smsc.deliver(citizen(phone, 'ignored', { data_coding: 8, short_message: { udh: udh(2), message: 'sɔrɔ ka kɛ.' } }))).toBe(0);
    expect(await inboundOf(phone)).toHaveLength(0);
    expect(await smsc.deliver(citizen(phone, 'ignored', { data_coding: 8, short_message: { udh: udh(1), message: 'Wari tilala an ka sigida la, ' } }))).toBe(0);
    const [row] = await waitFor('the whole message', () => inboundOf(phone), (r) => r.length === 1);
    expect(row!.text).toBe('Wari tilala an ka sigida la, sɔrɔ ka kɛ.');
  });
});

describe('failures', () => {
  it('ESME_RTHROTTLED: the message is tried again later and accepted once', async () => {
    const phone = num(50);
    smsc.plan = (s, n) => (s.to === digits(phone) && n === 1 ? { status: E.ESME_RTHROTTLED } : {});
    try {
      const id = await addMessage(h, phone, 'throttled');
      const row = await settled(id);
      expect(row).toMatchObject({ status: 'sent', attempts: 2 });
      expect(receivedBy(phone)).toHaveLength(2);
      expect(acceptedBy(phone)).toHaveLength(1);
      const events = await eventsOf(id);
      expect(events.map((e) => e.status)).toEqual(['pending', 'retrying', 'sent']);
      expect(events[1]!.detail).toBe('ESME_RTHROTTLED');
    } finally {
      smsc.plan = () => ({});
    }
  });

  it('a throttled second part is tried again alone: each part accepted once, the first never resent', async () => {
    const phone = num(51);
    smsc.plan = (s, n) => (s.to === digits(phone) && n === 2 ? { status: E.ESME_RTHROTTLED } : {});
    try {
      const row = await settled(await addMessage(h, phone, 'throttled-part', LONG_BM, 'bm'));
      expect(row).toMatchObject({ status: 'sent', attempts: 1 });
      expect(receivedBy(phone).map((p) => p.concat!.index)).toEqual([1, 2, 2]);
      expect(acceptedBy(phone).map((p) => p.concat!.index)).toEqual([1, 2]);
      expect(reassemble(acceptedBy(phone))).toBe(renderSms(h.ctx.flows.live(), 'bm', LONG_BM, {}).text);
    } finally {
      smsc.plan = () => ({});
    }
  });

  it('ESME_RSYSERR then success: sent on the second attempt', async () => {
    const phone = num(52);
    smsc.plan = (s, n) => (s.to === digits(phone) && n === 1 ? { status: E.ESME_RSYSERR } : {});
    try {
      const row = await settled(await addMessage(h, phone, 'syserr'));
      expect(row).toMatchObject({ status: 'sent', attempts: 2 });
      expect(acceptedBy(phone)).toHaveLength(1);
    } finally {
      smsc.plan = () => ({});
    }
  });

  it('ESME_RINVDSTADR fails at once: one submit, no retry', async () => {
    const phone = num(53);
    smsc.plan = (s) => (s.to === digits(phone) ? { status: E.ESME_RINVDSTADR } : {});
    try {
      const row = await settled(await addMessage(h, phone, 'invalid-destination'));
      expect(row).toMatchObject({ status: 'failed', failure_reason: 'ESME_RINVDSTADR', gateway_status_code: E.ESME_RINVDSTADR, attempts: 1 });
      await new Promise((r) => setTimeout(r, 400));
      expect(receivedBy(phone)).toHaveLength(1);
    } finally {
      smsc.plan = () => ({});
    }
  });
});

describe('a connection dropped during a burst', () => {
  it('after the reconnect each SMS reaches the SMSC exactly once', async () => {
    const phones = Array.from({ length: 16 }, (_, i) => num(60 + i));
    const wanted = new Set(phones.map(digits));
    let accepted = 0;
    let dropped = false;
    const bindsBefore = smsc.binds.filter((b) => b.ok).length;
    smsc.plan = (s) => {
      if (!wanted.has(s.to)) return {};
      accepted += 1;
      if (accepted === 5 && !dropped) {
        dropped = true;
        return { drop: 'after-answer' };
      }
      return { delayMs: 20 };
    };
    try {
      const ids: string[] = [];
      for (const [i, phone] of phones.entries()) {
        const id = await insertSms(h.ctx.db, {
          dedupeKey: `smpp-test:burst-${i}`,
          kind: 'reply',
          ref: null,
          phoneHash: pseudonymizePhone(h.ctx.secrets.phoneHashKey, phone),
          phoneEnc: encryptText(h.ctx.secrets.dataEncryptionKey, phone),
          language: 'fr',
          template: SMS_TEXTS.help,
          vars: {},
        });
        ids.push(id!);
      }
      await h.ctx.sms.enqueue(h.ctx.db, ids);
      const rows = await Promise.all(ids.map((id) => settled(id, ['sent', 'failed'], 30_000)));
      expect(dropped).toBe(true);
      expect(smsc.binds.filter((b) => b.ok).length).toBeGreaterThan(bindsBefore);
      expect(rows.map((r) => r.status)).toEqual(ids.map(() => 'sent'));
      for (const phone of phones) {
        expect([phone.slice(-4), receivedBy(phone).length]).toEqual([phone.slice(-4), 1]);
        expect(acceptedBy(phone)).toHaveLength(1);
      }
      expect(new Set(rows.map((r) => r.gateway_message_id)).size).toBe(phones.length);
      // Some were on the wire when the connection went: they were sent again on the new bind.
      expect(new Set(phones.map((p) => receivedBy(p)[0]!.bind)).size).toBeGreaterThan(1);
    } finally {
      smsc.plan = () => ({});
    }
  }, 60_000);

  it('a submit the SMSC read but never answered before the drop is sent again (SMPP cannot tell): accepted once, recorded once', async () => {
    const phone = num(80);
    smsc.plan = (s, n) => (s.to === digits(phone) && n === 1 ? { drop: 'without-answer' } : {});
    try {
      const row = await settled(await addMessage(h, phone, 'ambiguous'));
      expect(row).toMatchObject({ status: 'sent', attempts: 2 });
      expect(receivedBy(phone)).toHaveLength(2);
      expect(acceptedBy(phone)).toHaveLength(1);
      expect(row.gateway_message_id).toBe(acceptedBy(phone)[0]!.id);
    } finally {
      smsc.plan = () => ({});
    }
  });
});

describe('the window and the pace', () => {
  it('never more submit_sm outstanding than the window, and no faster than the throughput', async () => {
    const session = createSmppSession({ host: '127.0.0.1', port: smsc.port, systemId: SMSC_LOGIN.systemId, password: SMSC_LOGIN.password, logger: quiet, window: 3, throughput: 50 });
    session.start();
    try {
      await session.whenBound(5000);
      smsc.plan = (s) => (s.to.startsWith('999') ? { delayMs: 60 } : {});
      smsc.maxOutstanding = 0;
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => session.submit({ destination_addr: `999${i}`, source_addr: 'KALATA', short_message: Buffer.from('hi'), data_coding: 0 })),
      );
      const seconds = (performance.now() - started) / 1000;
      expect(answers.every((a) => a.commandStatus === 0 && a.messageId)).toBe(true);
      expect(smsc.maxOutstanding).toBe(3);
      expect(seconds).toBeGreaterThanOrEqual(19 / 50 - 0.02);
      expect(session.inFlight).toBe(0);
    } finally {
      smsc.plan = () => ({});
      await session.close();
    }
  });
});

describe('metrics', () => {
  it('/metrics shows the bind state, the window in use and the submit latency by status', async () => {
    const text = await (await fetch(`${h.base}/metrics`)).text();
    expect(text).toMatch(/^kalata_smpp_bind_state\{state="bound"\} 1$/m);
    expect(text).toMatch(/^kalata_smpp_bind_state\{state="disconnected"\} 0$/m);
    expect(text).toMatch(/^kalata_smpp_window_in_use \d+$/m);
    expect(text).toMatch(/^kalata_smpp_submit_seconds_count\{status="ESME_ROK"\} [1-9]\d*$/m);
    expect(text).toMatch(/^kalata_smpp_submit_seconds_count\{status="ESME_RTHROTTLED"\} [1-9]\d*$/m);
  });
});

describe('privacy', () => {
  it('no log line names a test number, nor the SMPP password', () => {
    const logs = h.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(SMSC_LOGIN.password);
    for (const phone of testNumbers) {
      expect(logs).not.toContain(phone);
      expect(logs).not.toContain(phone.slice(4));
    }
  });
});
