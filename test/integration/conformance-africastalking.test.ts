/**
 * Africa's Talking as others see it: payloads taken from other projects'
 * tests, from AT's own documentation and SDK, and from the forms issue 14
 * found in the field, replayed against a real Kalata (real PostgreSQL and
 * Redis). Each case names its source beside it, says what Kalata answers
 * (status and body) and what it records. Where Kalata deliberately answers
 * differently from the source (courier refuses an unknown delivery status,
 * Kalata records it), the case says so.
 *
 * The Hubtel half lives with the Hubtel channel; the conversation every
 * gateway must show alike is test/integration/channel-conformance.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { encryptText, pseudonymizePhone } from '../../src/privacy/phone.js';
import { finishSms, insertSms } from '../../src/store/sms-store.js';
import { startHarness, type Harness } from '../support/harness.js';

/** Where each payload comes from. */
const SRC = {
  courier: 'nyaruka/courier handlers/africastalking/handler_test.go',
  courierHandler: 'nyaruka/courier handlers/africastalking/handler.go (statusMapping)',
  atNodeSdk: 'AfricasTalkingLtd/africastalking-node.js test/ussd.js',
  atSmsNotifications: 'http://docs.africastalking.com/sms/notifications',
  atDeliveryReports: 'http://docs.africastalking.com/sms/deliveryreports',
  ussdBuilder: 'npm ussd-builder (harmonizerblinks/ussd-builder) test/ussd-menu.js',
  atCourseUssd: 'https://www.mintlify.com/DaggieBlanqx/Google-Africastalking-AI-Course/services/ussd',
  atCourseEndpoints: 'https://www.mintlify.com/DaggieBlanqx/Google-Africastalking-AI-Course/api/ussd-endpoints',
  voicepactSms: 'https://www.mintlify.com/mutuiris/voicepact/api/sms/webhook',
  issue14: 'issue 14 §2 (AT numbers without +: 2547…, a local 07…)',
  maliForms: 'shared/reference/telco-protocols.md, Mali specifics (76123456, 0022376123456, 22376123456)',
} as const;

const USSD = '/ussd/africastalking';
const EVENTS = '/ussd/africastalking/events';
const INBOUND = '/sms/africastalking/inbound';
const DELIVERY = '/sms/africastalking/delivery';

let h: Harness;
const run = Date.now();

beforeAll(async () => {
  h = await startHarness('conformance africastalking', { env: { RATE_LIMIT_PER_PHONE: '0' } });
});
afterAll(async () => {
  await h?.close();
});

/** Posts a body exactly as the source wrote it (some send `+` unencoded, which a form decodes as a space). */
async function raw(path: string, body: string) {
  const res = await fetch(`${h.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return { status: res.status, body: await res.text() };
}

const hashOf = (e164: string) => pseudonymizePhone(h.ctx.secrets.phoneHashKey, e164);
const callOf = (sessionId: string) => h.ctx.db.selectFrom('calls').selectAll().where('channel', '=', 'africastalking').where('gateway_session_id', '=', sessionId).executeTakeFirst();
const inboundOf = (id: string) => h.ctx.db.selectFrom('sms_inbound').selectAll().where('gateway_id', '=', id).execute();
const outboxOf = (gid: string) => h.ctx.db.selectFrom('sms_outbox').selectAll().where('gateway_message_id', '=', gid).executeTakeFirstOrThrow();
const deliveryEvents = async (gid: string) =>
  (await h.ctx.db.selectFrom('sms_events').select(['status', 'message_id', 'detail']).where('gateway_message_id', '=', gid).where('status', 'like', 'delivery:%').orderBy('id').execute());

// ---------------------------------------------------------------------------

describe('AT USSD callback: the payloads others send', () => {
  interface UssdCase {
    name: string;
    source: string;
    body: string;
    sessionId: string;
    status: number;
    /** the exact body, or a pattern */
    answer: string | RegExp;
    /** the number the call is recorded under; undefined: no call recorded */
    recordedAs?: string;
  }
  const cases: UssdCase[] = [
    {
      name: "the SDK's own test body: unencoded, with a placeholder number too short for +1",
      source: `${SRC.atNodeSdk} 'shows main menu when text is empty'`,
      body: 'text=&sessionId=123&serviceCode=*123#&phoneNumber=+1234567890',
      sessionId: '123',
      status: 400,
      answer: 'phoneNumber is not a phone number',
    },
    {
      name: "the SDK's body shape (unencoded + and #) with a Malian number",
      source: `${SRC.atNodeSdk} 'shows main menu when text is empty' (number replaced)`,
      body: `text=&sessionId=sdk_${run}&serviceCode=*123#&phoneNumber=+22376300001`,
      sessionId: `sdk_${run}`,
      status: 200,
      answer: /^CON Kalata\. Langue \/ Kan:/,
      recordedAs: '+22376300001',
    },
    {
      name: 'a first request that already carries text (the SDK sends text=hello): CON or END, never an error',
      source: `${SRC.atNodeSdk} 'returns response starting with CON or END' (number replaced)`,
      body: `text=hello&sessionId=sdk_hello_${run}&serviceCode=*123#&phoneNumber=+22376300002`,
      sessionId: `sdk_hello_${run}`,
      status: 200,
      answer: /^(CON|END) /,
      recordedAs: '+22376300002',
    },
    {
      name: 'a placeholder with letters, sent by curl -d (the + arrives as a space): refused, not read as a vanity number',
      source: `${SRC.atCourseEndpoints} 'Example Request (Initial)'`,
      body: 'sessionId=ATUid_abc123&serviceCode=*123#&phoneNumber=+254711XXXYYY&text=',
      sessionId: 'ATUid_abc123',
      status: 400,
      answer: 'phoneNumber is not a phone number',
    },
    {
      name: 'a Kenyan sandbox number, encoded',
      source: `${SRC.atCourseUssd} 'Handle USSD Session'`,
      body: `sessionId=ATUid_123_${run}&serviceCode=*123%23&phoneNumber=%2B254711000111&text=`,
      sessionId: `ATUid_123_${run}`,
      status: 200,
      answer: /^CON Kalata\./,
      recordedAs: '+254711000111',
    },
    {
      name: "ussd-builder's request: a + number of a length Kenya allows",
      source: `${SRC.ussdBuilder} describe('UssdMenu') args`,
      body: new URLSearchParams({ phoneNumber: '+2547123456789', serviceCode: '111', sessionId: 'sfdsfdsafdsf', text: '' }).toString(),
      sessionId: 'sfdsfdsafdsf',
      status: 200,
      answer: /^CON Kalata\./,
      recordedAs: '+2547123456789',
    },
    {
      name: "ussd-builder's six-digit number",
      source: `${SRC.ussdBuilder} 'should successfully resolve state based on async function…' args`,
      body: new URLSearchParams({ phoneNumber: '123456', serviceCode: '111', sessionId: '324errw44we', text: '' }).toString(),
      sessionId: '324errw44we',
      status: 400,
      answer: 'phoneNumber is not a phone number',
    },
    {
      name: 'a Kenyan number without + (it used to get 400): read as international',
      source: SRC.issue14,
      body: new URLSearchParams({ sessionId: `nop_${run}`, serviceCode: '*384*123#', phoneNumber: '254711000112', networkCode: '63902', text: '' }).toString(),
      sessionId: `nop_${run}`,
      status: 200,
      answer: /^CON Kalata\./,
      recordedAs: '+254711000112',
    },
    {
      name: 'a local Kenyan number with DEFAULT_COUNTRY=ML: the country is not known, refused',
      source: SRC.issue14,
      body: new URLSearchParams({ sessionId: `local_ke_${run}`, serviceCode: '*384*123#', phoneNumber: '0711000113', text: '' }).toString(),
      sessionId: `local_ke_${run}`,
      status: 400,
      answer: 'phoneNumber is not a phone number',
    },
    ...(['76300003', '0022376300004', '22376300005'] as const).map((form, i) => ({
      name: `a Malian number in a local form: ${form}`,
      source: SRC.maliForms,
      body: new URLSearchParams({ sessionId: `ml_${i}_${run}`, serviceCode: '*384*123#', phoneNumber: form, networkCode: '99999', text: '' }).toString(),
      sessionId: `ml_${i}_${run}`,
      status: 200,
      answer: /^CON Kalata\./,
      recordedAs: `+2237630000${3 + i}`,
    })),
  ];

  it.each(cases)('$name [$source]', async (c) => {
    const res = await raw(USSD, c.body);
    expect(res.status).toBe(c.status);
    if (typeof c.answer === 'string') expect(res.body).toBe(c.answer);
    else expect(res.body).toMatch(c.answer);
    const call = await callOf(c.sessionId);
    if (c.recordedAs === undefined) {
      expect(call).toBeUndefined();
    } else {
      expect(call).toMatchObject({ channel: 'africastalking', phone_hash: hashOf(c.recordedAs) });
    }
  });

  it(`a session goes on with the cumulative text "1", then "1*1" [${SRC.atCourseUssd} 'text' examples]`, async () => {
    const sessionId = `ATUid_steps_${run}`;
    const post = (text: string) => raw(USSD, new URLSearchParams({ sessionId, serviceCode: '*123#', phoneNumber: '+254711000111', text }).toString());
    expect((await post('')).body).toMatch(/^CON Kalata\./);
    expect((await post('1')).body).toMatch(/^CON Kalata: infos sur le vote/);
    const third = await post('1*1');
    expect(third.status).toBe(200);
    expect(third.body).toMatch(/^CON Comment voter/);
    // The same request again (a gateway retry) gets the same answer, and is one step.
    expect(await post('1*1')).toEqual(third);
    expect(await callOf(sessionId)).toMatchObject({ steps: 3, language: 'fr' });
  });
});

describe('AT end-of-session notification', () => {
  const sessionId = `ATUid_end_${run}`;
  const fields = {
    date: '2025-09-29 12:00:00',
    sessionId,
    serviceCode: '*123#',
    networkCode: '63902',
    phoneNumber: '+254711000111',
    status: 'Success',
    cost: 'KES 0.10',
    durationInMillis: '25000',
    hopsCount: '3',
    input: '1*1',
    lastAppResponse: 'CON Comment voter',
    errorMessage: '',
  };

  beforeAll(async () => {
    for (const text of ['', '1', '1*1']) {
      expect((await h.at({ sessionId, serviceCode: '*123#', phoneNumber: '+254711000111', text })).status).toBe(200);
    }
  });

  it(`closes the call with the telco's outcome: 200 "ok" [${SRC.atCourseEndpoints} 'POST /ussd/status'; fields as shared/reference/telco-protocols.md]`, async () => {
    expect(await h.at(fields, EVENTS)).toEqual({ status: 200, body: 'ok' });
    const call = await callOf(sessionId);
    expect(call).toMatchObject({ telco_status: 'Success', telco_duration_ms: 25000, telco_hops: 3, telco_cost: 'KES 0.10', telco_error: null, outcome: 'abandoned' });
    expect(call!.ended_at).not.toBeNull();
    // What the caller typed and last saw is not kept with the call record.
    expect(JSON.stringify(call)).not.toContain('1*1');
  });

  it('the same notification again is answered the same and changes nothing [a gateway retry]', async () => {
    const before = await callOf(sessionId);
    expect(await h.at(fields, EVENTS)).toEqual({ status: 200, body: 'ok' });
    expect(await callOf(sessionId)).toEqual(before);
  });

  it.each([
    ['Incomplete', ''],
    ['Failed', 'Session timed out'],
  ])(`status %s is recorded with its error message [${SRC.atCourseEndpoints}: status, errorMessage]`, async (status, errorMessage) => {
    const id = `ATUid_end_${status}_${run}`;
    expect((await h.at({ sessionId: id, serviceCode: '*123#', phoneNumber: '+22376300010', text: '' })).status).toBe(200);
    expect(await h.at({ ...fields, sessionId: id, status, errorMessage }, EVENTS)).toEqual({ status: 200, body: 'ok' });
    expect(await callOf(id)).toMatchObject({ telco_status: status, telco_error: errorMessage || null });
  });

  it('a notification for a session Kalata never saw is still a 200, and records nothing', async () => {
    const id = `ATUid_never_${run}`;
    expect(await h.at({ ...fields, sessionId: id }, EVENTS)).toEqual({ status: 200, body: 'ok' });
    expect(await callOf(id)).toBeUndefined();
  });

  it('its phoneNumber is not read: one sent unencoded or without + is still a 200 (the call is found by sessionId)', async () => {
    const id = `ATUid_end_raw_${run}`;
    expect((await h.at({ sessionId: id, serviceCode: '*123#', phoneNumber: '+22376300011', text: '' })).status).toBe(200);
    const body = `sessionId=${id}&serviceCode=*123#&networkCode=99999&phoneNumber=+22376300011&status=Success&durationInMillis=900&hopsCount=1`;
    expect(await raw(EVENTS, body)).toEqual({ status: 200, body: 'ok' });
    expect(await callOf(id)).toMatchObject({ telco_status: 'Success', telco_hops: 1 });
  });

  it('one without a sessionId cannot be read: 400 with the reason', async () => {
    expect(await h.at({ ...fields, sessionId: undefined }, EVENTS)).toEqual({ status: 400, body: 'sessionId is missing' });
  });
});

describe('AT incoming SMS', () => {
  const courierValid = 'linkId=03090445075804249226&text=Msg&to=21512&id=ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3&date=2017-05-03T06%3A04%3A45Z&from=%2B254791541111';

  it(`courier "Receive Valid" (ISO date): 200 "ok", recorded with its date, link id and number [${SRC.courier} incomingCases "Receive Valid"]`, async () => {
    expect(await raw(INBOUND, courierValid)).toEqual({ status: 200, body: 'ok' });
    const rows = await inboundOf('ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ phone_hash: hashOf('+254791541111'), to_code: '21512', text: 'Msg', link_id: '03090445075804249226' });
    expect(new Date(rows[0]!.received_at).toISOString()).toBe('2017-05-03T06:04:45.000Z');
  });

  it(`courier's second "Receive Valid" (same id, space date): "duplicate", still one row [${SRC.courier} incomingCases "Receive Valid" #2]`, async () => {
    const body = 'linkId=03090445075804249226&text=Msg&to=21512&id=ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3&date=2017-05-03+06%3A04%3A45&from=%2B254791541111';
    expect(await raw(INBOUND, body)).toEqual({ status: 200, body: 'duplicate' });
    expect(await inboundOf('ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3')).toHaveLength(1);
  });

  it(`the space date on its own is read as UTC [${SRC.courier} incomingCases "Receive Valid" #2, id changed]`, async () => {
    const id = `ec9adc86-space-${run}`;
    const body = `linkId=03090445075804249226&text=Msg&to=21512&id=${id}&date=2017-05-03+06%3A04%3A45&from=%2B254791541111`;
    expect(await raw(INBOUND, body)).toEqual({ status: 200, body: 'ok' });
    expect(new Date((await inboundOf(id))[0]!.received_at).toISOString()).toBe('2017-05-03T06:04:45.000Z');
  });

  it.each([
    ['"Receive Empty"', 'empty', 'id is missing'],
    ['"Receive Missing Text"', 'linkId=03090445075804249226&to=21512&id=ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc4&date=2017-05-03T06%3A04%3A45Z&from=%2B254791541111', 'text is missing'],
    ['"Invalid URN"', 'linkId=03090445075804249226&text=Msg&to=21512&id=ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc5&date=2017-05-03T06%3A04%3A45Z&from=MTN', 'from is not a phone number'],
  ])(`courier %s: 400 with a plain reason, nothing recorded [${SRC.courier}]`, async (_name, body, reason) => {
    expect(await raw(INBOUND, body)).toEqual({ status: 400, body: reason });
    const id = /id=([^&]+)/.exec(body)?.[1];
    if (id) expect(await inboundOf(id)).toHaveLength(0);
  });

  it(`courier "Invalid Date" (no seconds): Kalata keeps the message, dated now, not read in local time (courier answers 400) [${SRC.courier} incomingCases "Invalid Date"]`, async () => {
    const before = Date.now();
    const body = 'linkId=03090445075804249226&text=Msg&to=21512&id=ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc6&date=2017-05-03T06%3A04&from=%2B254791541111';
    expect(await raw(INBOUND, body)).toEqual({ status: 200, body: 'ok' });
    const received = new Date((await inboundOf('ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc6'))[0]!.received_at).getTime();
    expect(received).toBeGreaterThanOrEqual(before - 1000);
    expect(received).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it(`every field AT documents, networkCode too: 200 "ok" [${SRC.atSmsNotifications} "Incoming messages"; ${SRC.voicepactSms}]`, async () => {
    const id = `ATSMS_doc_${run}`;
    expect(await h.at({ from: '+22376300020', to: '20880', text: 'AIDE', date: '2026-11-24 10:00:00', id, linkId: 'SampleLinkId123', networkCode: '61002' }, INBOUND)).toEqual({
      status: 200,
      body: 'ok',
    });
    expect((await inboundOf(id))[0]).toMatchObject({ phone_hash: hashOf('+22376300020'), keyword: 'help', link_id: 'SampleLinkId123' });
  });

  it.each([
    ['254791541112', '+254791541112', SRC.issue14],
    ['76300021', '+22376300021', SRC.maliForms],
    ['0022376300022', '+22376300022', SRC.maliForms],
  ])('a sender %j is read by the same rule as USSD, as %s [%s]', async (from, e164, _source) => {
    const id = `ATSMS_form_${from}_${run}`;
    expect(await h.at({ from, to: '20880', text: 'Msg', date: '2026-11-24 10:00:00', id }, INBOUND)).toEqual({ status: 200, body: 'ok' });
    expect((await inboundOf(id))[0]!.phone_hash).toBe(hashOf(e164));
  });

  it(`a local sender of another country is refused: 400 [${SRC.issue14}]`, async () => {
    const id = `ATSMS_local_ke_${run}`;
    expect(await h.at({ from: '0791541111', to: '20880', text: 'Msg', id }, INBOUND)).toEqual({ status: 400, body: 'from is not a phone number' });
    expect(await inboundOf(id)).toHaveLength(0);
  });
});

describe('AT delivery reports', () => {
  let sent = 0;
  /** A message Kalata sent through AT, known by the gateway's id. */
  async function sentMessage(gid: string): Promise<string> {
    const id = await insertSms(h.ctx.db, {
      dedupeKey: `conformance:${gid}:${++sent}`,
      kind: 'conformance',
      ref: null,
      phoneHash: hashOf('+22376300030'),
      phoneEnc: encryptText(h.ctx.secrets.dataEncryptionKey, '+22376300030'),
      language: 'fr',
      template: 'sms.help',
      vars: {},
    });
    await finishSms(h.ctx.db, id!, { status: 'sent', transport: 'africastalking', gatewayMessageId: gid, gatewayStatus: 'Success', gatewayStatusCode: 101 });
    return id!;
  }
  const report = (fields: Record<string, string | undefined>) => h.at(fields, DELIVERY);

  it(`courier "Status Success": 200 "ok", the message is delivered [${SRC.courier} incomingCases "Status Success"]`, async () => {
    const gid = 'ATXid_dda018a640edfcc5d2ce455de3e4a6e7';
    const id = await sentMessage(gid);
    expect(await raw(DELIVERY, `id=${gid}&status=Success`)).toEqual({ status: 200, body: 'ok' });
    expect(await outboxOf(gid)).toMatchObject({ delivery_status: 'Success', status: 'sent' });
    expect(await deliveryEvents(gid)).toEqual([{ status: 'delivery:Success', message_id: id, detail: null }]);
  });

  it(`courier "Status Expired": Expired is final, a later Sent or Buffered never overwrites it [${SRC.courier} "Status Expired"; ${SRC.courierHandler}]`, async () => {
    const gid = `ATXid_expired_${run}`;
    await sentMessage(gid);
    expect(await raw(DELIVERY, `id=${gid}&status=Expired`)).toEqual({ status: 200, body: 'ok' });
    for (const late of ['Sent', 'Buffered', 'Submitted']) expect(await report({ id: gid, status: late })).toEqual({ status: 200, body: 'ok' });
    expect((await outboxOf(gid)).delivery_status).toBe('Expired');
    expect((await deliveryEvents(gid)).map((e) => e.status)).toEqual(['delivery:Expired', 'delivery:Sent', 'delivery:Buffered', 'delivery:Submitted']);
  });

  it(`courier "Status Invalid" (Borked): Kalata answers 200 and records it, and the message keeps its status (courier answers 400) [${SRC.courier} "Status Invalid"]`, async () => {
    const gid = `ATXid_borked_${run}`;
    await sentMessage(gid);
    await report({ id: gid, status: 'Buffered' });
    expect(await raw(DELIVERY, `id=${gid}&status=Borked`)).toEqual({ status: 200, body: 'ok' });
    expect((await outboxOf(gid)).delivery_status).toBe('Buffered');
    expect((await deliveryEvents(gid)).map((e) => e.status)).toEqual(['delivery:Buffered', 'delivery:Borked']);
    // And the interim status still moves on to a final one.
    await report({ id: gid, status: 'Success' });
    expect((await outboxOf(gid)).delivery_status).toBe('Success');
  });

  it(`an unknown status on a message with none yet leaves it with none [${SRC.courier} "Status Invalid"]`, async () => {
    const gid = `ATXid_borked_first_${run}`;
    await sentMessage(gid);
    expect(await report({ id: gid, status: 'Borked' })).toEqual({ status: 200, body: 'ok' });
    expect((await outboxOf(gid)).delivery_status).toBeNull();
  });

  it(`courier "Status Missing": 400 with the reason [${SRC.courier} "Status Missing"]`, async () => {
    expect(await raw(DELIVERY, 'id=ATXid_dda018a640edfcc5d2ce455de3e4a6e7')).toEqual({ status: 400, body: 'status is missing' });
  });

  it(`AT's interim statuses in order, then the final one; a late Sent keeps Success [${SRC.atDeliveryReports}: Sent, Submitted, Buffered, then Success "a final status"]`, async () => {
    const gid = `ATXid_steps_${run}`;
    await sentMessage(gid);
    const seen: (string | null)[] = [];
    for (const status of ['Sent', 'Submitted', 'Buffered', 'Success', 'Sent']) {
      expect(await report({ id: gid, status, phoneNumber: '+22376300030', networkCode: '61002' })).toEqual({ status: 200, body: 'ok' });
      seen.push((await outboxOf(gid)).delivery_status);
    }
    expect(seen).toEqual(['Sent', 'Submitted', 'Buffered', 'Success', 'Success']);
  });

  it.each([
    ['Rejected', 'InvalidLinkId'],
    ['Failed', 'UserInBlackList'],
    ['Failed', 'DeliveryFailure'],
  ])(`%s with failureReason %s is final and keeps the reason [${SRC.atDeliveryReports}: failureReason only for Rejected or Failed]`, async (status, failureReason) => {
    const gid = `ATXid_${status}_${failureReason}_${run}`;
    await sentMessage(gid);
    expect(await report({ id: gid, status, failureReason, phoneNumber: '+22376300030', networkCode: '61002', retryCount: '0' })).toEqual({ status: 200, body: 'ok' });
    await report({ id: gid, status: 'Success' });
    expect(await outboxOf(gid)).toMatchObject({ delivery_status: status, failure_reason: failureReason });
  });

  it(`every field AT and others send, retryCount too: 200 "ok" [${SRC.atSmsNotifications} "Delivery Report notification contents"; ${SRC.voicepactSms}]`, async () => {
    const gid = `ATXid_fields_${run}`;
    await sentMessage(gid);
    const body = `id=${gid}&status=Success&phoneNumber=%2B22376300030&networkCode=61002&retryCount=2&failureReason=`;
    expect(await raw(DELIVERY, body)).toEqual({ status: 200, body: 'ok' });
    expect(await outboxOf(gid)).toMatchObject({ delivery_status: 'Success', failure_reason: null });
  });

  it('a report for an id Kalata never sent is a 200, kept as an event with no message', async () => {
    const gid = `ATXid_unknown_${run}`;
    expect(await report({ id: gid, status: 'Success' })).toEqual({ status: 200, body: 'ok' });
    expect(await deliveryEvents(gid)).toEqual([{ status: 'delivery:Success', message_id: null, detail: null }]);
  });

  it('reports that arrive before the send is recorded: the message adopts the final one, never an unknown one', async () => {
    const gid = `ATXid_early_${run}`;
    for (const status of ['Buffered', 'Borked']) expect(await report({ id: gid, status })).toEqual({ status: 200, body: 'ok' });
    const id = await sentMessage(gid);
    expect((await outboxOf(gid)).delivery_status).toBe('Buffered');
    expect((await deliveryEvents(gid)).every((e) => e.message_id === id)).toBe(true);

    const final = `ATXid_early_final_${run}`;
    for (const status of ['Expired', 'Sent', 'Borked']) await report({ id: final, status });
    await sentMessage(final);
    expect((await outboxOf(final)).delivery_status).toBe('Expired');
  });
});

describe('privacy', () => {
  it('no log line names a number these payloads carried', () => {
    const logs = h.logs.join('');
    for (const n of ['254711000111', '254791541111', '22376300001', '76300003', '22376300020', '0711000113', '254711XXXYYY', '1234567890']) {
      expect(logs).not.toContain(n);
    }
  });
});

describe('DEFAULT_COUNTRY=KE: a local number of the configured country is read', () => {
  let ke: Harness;
  beforeAll(async () => {
    ke = await startHarness('conformance africastalking ke', { env: { DEFAULT_COUNTRY: 'KE' } });
  });
  afterAll(async () => {
    await ke?.close();
  });

  it(`0711000113 is +254711000113 on USSD and SMS; a Malian local form is then refused [${SRC.issue14}]`, async () => {
    const sessionId = `ke_${run}`;
    expect((await ke.at({ sessionId, serviceCode: '*384*123#', phoneNumber: '0711000113', text: '' })).body).toMatch(/^CON Kalata\./);
    const call = await ke.ctx.db.selectFrom('calls').select('phone_hash').where('gateway_session_id', '=', sessionId).executeTakeFirstOrThrow();
    expect(call.phone_hash).toBe(pseudonymizePhone(ke.ctx.secrets.phoneHashKey, '+254711000113'));
    expect(await ke.at({ from: '0711000113', to: '21512', text: 'Msg', id: `ke_sms_${run}` }, INBOUND)).toEqual({ status: 200, body: 'ok' });
    expect(await ke.at({ sessionId: `ke_ml_${run}`, serviceCode: '*384*123#', phoneNumber: '76300003', text: '' })).toEqual({ status: 400, body: 'phoneNumber is not a phone number' });
  });
});
