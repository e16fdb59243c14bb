/**
 * Every gateway must give a caller the same conversation. The same calls are
 * played through Africa's Talking (cumulative text, form bodies) and Hubtel
 * (newest input only, JSON) on one Kalata, and must show the same screens and
 * leave the same records. Then Hubtel's own quirks, one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hubtelBodySchema, resolveSequence, toHubtelRequest } from '../../src/channels/hubtel/ussd-request.js';
import { atDriver, hubtelDriver, play, postHubtel, type Call, type ChannelDriver, type Reply } from '../support/channels.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
let drivers: ChannelDriver[];
const run = Date.now();
let n = 0;
/** A fresh session id and a fresh caller (no remembered language) for one driver. */
function newCall(driver: ChannelDriver, extra: Partial<Call> = {}): Call {
  n++;
  return { sessionId: `${driver.name}_conf_${n}_${run}`, phone: `+2237${String(5000000 + n).padStart(7, '0')}`, ...extra };
}

beforeAll(async () => {
  // Both gateways as written: the same screens, byte for byte (Hubtel's default form, ascii, is tested in conformance-hubtel).
  h = await startHarness('channel conformance', { env: { HUBTEL_TEXT_FORM: 'as_written' } });
  drivers = [atDriver(h), hubtelDriver(h)];
});
afterAll(async () => {
  await h.close();
});

/** Report references are minted per call: the only part of a screen allowed to differ. */
const sameScreens = (replies: Reply[]) => replies.map((r) => ({ ...r, text: r.text.replace(/KA-[0-9A-Z]{7}/g, 'KA-•••••••') }));

async function callRecord(call: Call) {
  const row = await h.ctx.db.selectFrom('calls').selectAll().where('gateway_session_id', '=', call.sessionId).executeTakeFirstOrThrow();
  const steps = await h.ctx.db.selectFrom('call_steps').select(['seq', 'node', 'input', 'screen', 'ended']).where('call_id', '=', row.id).orderBy('seq').execute();
  const reports = await h.ctx.db.selectFrom('reports').select(['fields', 'language']).where('call_id', '=', row.id).execute();
  return {
    row,
    steps: steps.map((s) => ({ ...s, screen: s.screen.replace(/KA-[0-9A-Z]{7}/g, 'KA-•••••••') })),
    reports,
  };
}

/** Plays one conversation through every driver; returns the calls and what each caller saw. */
async function everywhere(inputs: readonly string[], extra: Partial<Call> | ((driver: ChannelDriver, i: number) => Partial<Call>) = {}) {
  return Promise.all(
    drivers.map(async (driver, i) => {
      const call = newCall(driver, typeof extra === 'function' ? extra(driver, i) : extra);
      return { driver, call, replies: await play(driver, call, inputs) };
    }),
  );
}

/** Both channels showed the same screens and recorded the same call. */
async function expectConformance(played: Awaited<ReturnType<typeof everywhere>>) {
  const [at, hubtel] = played;
  expect(sameScreens(hubtel!.replies)).toEqual(sameScreens(at!.replies));
  const [atRecord, hubtelRecord] = await Promise.all([callRecord(at!.call), callRecord(hubtel!.call)]);
  expect(atRecord.row.channel).toBe('africastalking');
  expect(hubtelRecord.row.channel).toBe('hubtel');
  const comparable = (r: Awaited<ReturnType<typeof callRecord>>) => ({
    language: r.row.language,
    outcome: r.row.outcome,
    steps: r.row.steps,
    lastNode: r.row.last_node,
    ended: r.row.ended_at !== null,
    serviceCode: r.row.service_code,
    stepRows: r.steps,
    reports: r.reports,
  });
  expect(comparable(hubtelRecord)).toEqual(comparable(atRecord));
  return { at: atRecord, hubtel: hubtelRecord };
}

describe('the same conversation through every gateway', () => {
  it('a French fraud report with a * inside the free text', async () => {
    const played = await everywhere(['1', '2', '1', '1', '1', '5', 'Quartier Médine*bureau 4', "On distribue de l'argent devant le bureau", '1']);
    const at = played[0]!.replies;
    expect(at[0]).toEqual({ text: 'Kalata. Langue / Kan:\n1. Français\n2. Bamanankan', end: false });
    expect(at[8]!.text).toMatch(/^Envoyer ce signalement\? Achat de votes, Ségou\./);
    expect(at[9]!.end).toBe(true);
    expect(at[9]!.text).toMatch(/^Merci\. Votre référence: KA-[0-9A-Z]{7}\./);
    const records = await expectConformance(played);
    expect(records.hubtel.reports).toEqual([
      {
        language: 'fr',
        fields: { incident: 'vote_buying', region: 'segou', place: 'Quartier Médine*bureau 4', description: "On distribue de l'argent devant le bureau" },
      },
    ]);
    expect(records.hubtel.row).toMatchObject({ steps: 10, outcome: 'completed', network_code: 'orange' });
    expect(records.hubtel.steps[7]!.input).toBe('Quartier Médine*bureau 4');
  });

  it('a Bambara walk through the voting answers, with paging (98) and back (0)', async () => {
    const played = await everywhere(['2', '1', '4', '98', '0', '0', '00']);
    const at = played[0]!.replies;
    expect(at[1]!.text).toMatch(/^Kalata\n1\. Wote cogo/);
    expect(at[2]!.text).toBe('Wote cogo\n1. Tɔgɔsɛbɛn\n2. Sɛbɛnw\n3. Wote don\n4. Wotelaw\n5. Wote biro\n6. Jaabiw');
    expect(at[3]!.text).toMatch(/^Malidenw minnu san bɛ 18 bɔ/);
    expect(at[4]!.text).toMatch(/^tɔgɔ bɛ tɔgɔsɛbɛn kan/);
    expect(at[5]!.text).toBe(at[3]!.text);
    expect(at[6]!.text).toBe(at[2]!.text);
    expect(at[7]!.text).toBe(at[1]!.text);
    expect(at.every((r) => !r.end)).toBe(true);
    const records = await expectConformance(played);
    expect(records.hubtel.row.language).toBe('bm');
  });

  it('three invalid inputs end the call', async () => {
    const played = await everywhere(['1', '7', '8', '9']);
    const at = played[0]!.replies;
    expect(at[2]!.text).toMatch(/^Choix non valide\.\nKalata: infos sur le vote/);
    expect(at[4]).toEqual({ text: "Trop d'essais. Rappelez quand vous voulez. Merci.", end: true });
    const records = await expectConformance(played);
    expect(records.hubtel.row.outcome).toBe('too_many_invalid');
  });

  it('inputs typed in the dial string (*384*123*1*1#), then a step', async () => {
    const played = await everywhere(['1'], { dialInputs: ['1', '1'] });
    const at = played[0]!.replies;
    expect(at[0]!.text).toMatch(/^Comment voter\n1\. Inscription/);
    expect(at[1]!.end).toBe(false);
    const records = await expectConformance(played);
    expect(records.hubtel.steps.map((s) => s.input)).toEqual([null, '1', '1', '1']);
  });

  it('a repeated request gets the same reply and is recorded once', async () => {
    const played = await Promise.all(
      drivers.map(async (driver) => {
        const call = newCall(driver);
        const replies = await play(driver, call, ['1', '1']);
        const again = await driver.resend(call);
        const thrice = await driver.resend(call);
        replies.push(await driver.send(call, '3'));
        return { driver, call, replies, again, thrice };
      }),
    );
    for (const p of played) {
      expect(p.again).toEqual(p.replies[2]);
      expect(p.thrice).toEqual(p.replies[2]);
      expect(p.replies[3]!.text).toMatch(/^Les bureaux sont ouverts de 8h à 18h/);
    }
    const records = await expectConformance(played);
    expect(records.hubtel.row.steps).toBe(4);
    expect(records.hubtel.steps).toHaveLength(4);
  });

  it('an international caller (Hubtel leaves out the +)', async () => {
    // One number per gateway: a caller's language is remembered across calls, and the calls run at once.
    const played = await everywhere(['1'], (_driver, i) => ({ phone: `+233244${String(run).slice(-5)}${i}` }));
    expect(played[0]!.replies[1]!.text).toMatch(/^Kalata: infos sur le vote/);
    await expectConformance(played);
  });
});

describe('Hubtel quirks', () => {
  const OVER = 'Cet appel est terminé. Recomposez le code pour recommencer. Merci.';
  let k = 0;
  const base = () => {
    k++;
    return { Mobile: `2237640${String(k).padStart(4, '0')}`, SessionId: `hubtel_quirk_${k}_${run}`, ServiceCode: '*384*123#', Operator: 'mtn', ClientState: '' };
  };
  const steps = async (sessionId: string) => (await h.ctx.db.selectFrom('calls').select('steps').where('channel', '=', 'hubtel').where('gateway_session_id', '=', sessionId).executeTakeFirst())?.steps;

  it('reads lowercase types (the newer API)', async () => {
    const b = base();
    const first = await postHubtel(h, { ...b, Type: 'initiation', Message: '*384*123#', Sequence: 1 });
    expect(first.json).toMatchObject({ Type: 'Response', Message: expect.stringMatching(/^Kalata\. Langue/) });
    const second = await postHubtel(h, { ...b, Type: 'response', Message: '1', Sequence: 2 });
    expect(second.json).toMatchObject({ Type: 'Response', Message: expect.stringMatching(/^Kalata: infos sur le vote/) });
    const released = await postHubtel(h, { ...b, Type: 'release', Message: '', Sequence: 3 });
    expect(released).toMatchObject({ status: 200, json: { Type: 'Release', Message: OVER, DataType: 'display', ClientState: '' } });
    expect(await steps(b.SessionId)).toBe(2);
  });

  it.each(['Release', 'Timeout'])('closes the call on %s, records no step, and answers what follows with a release', async (type) => {
    const b = base();
    await postHubtel(h, { ...b, Type: 'Initiation', Message: '*384*123#', Sequence: 1 });
    const res = await postHubtel(h, { ...b, Type: type, Message: '', Sequence: 2, ClientState: 'state-7' });
    expect(res).toMatchObject({ status: 200, json: { SessionId: b.SessionId, Type: 'Release', Message: OVER, DataType: 'display', FieldType: 'text', ClientState: 'state-7' } });
    expect(await steps(b.SessionId)).toBe(1);
    const call = await h.ctx.db.selectFrom('calls').select(['telco_status', 'outcome', 'ended_at']).where('channel', '=', 'hubtel').where('gateway_session_id', '=', b.SessionId).executeTakeFirstOrThrow();
    expect(call).toMatchObject({ telco_status: type, outcome: 'abandoned', ended_at: expect.any(Date) });
    // The gateway said the call is over: a later Response does not carry it on.
    const later = await postHubtel(h, { ...b, Type: 'Response', Message: '1', Sequence: 3 });
    expect(later).toMatchObject({ status: 200, json: { Type: 'Release', Message: OVER } });
    expect(await steps(b.SessionId)).toBe(1);
    // An end notice for a session never seen is answered all the same, without a call.
    const unknown = await postHubtel(h, { ...base(), Type: type });
    expect(unknown).toMatchObject({ status: 200, json: { Type: 'Release', Message: OVER } });
  });

  it('answers a Query with a plain release, and starts a call on a Favorite', async () => {
    const query = await postHubtel(h, { ...base(), Type: 'Query', Message: '' });
    expect(query).toMatchObject({ status: 200, json: { Type: 'Release', DataType: 'display', Message: expect.stringMatching(/Query/) } });
    const b = base();
    const favorite = await postHubtel(h, { ...b, Type: 'Favorite', Message: '*384*123#', Sequence: 1 });
    expect(favorite).toMatchObject({ status: 200, json: { Type: 'Response', Message: expect.stringMatching(/^Kalata\. Langue/), FieldType: 'number' } });
    expect(await steps(b.SessionId)).toBe(1);
  });

  it('follows a call without Sequence (the SDK sample has none) on the stored position', async () => {
    const b = base();
    const first = await postHubtel(h, { ...b, Type: 'Initiation', Message: '*384*123#' });
    expect(first.json).toMatchObject({ Type: 'Response', Message: expect.stringMatching(/^Kalata\. Langue/) });
    // The same Initiation again, before any step: a retry.
    expect((await postHubtel(h, { ...b, Type: 'Initiation', Message: '*384*123#' })).json).toEqual(first.json);
    const second = await postHubtel(h, { ...b, Type: 'Response', Message: '1', Sequence: 0 });
    expect(second.json).toMatchObject({ Type: 'Response', Message: expect.stringMatching(/^Kalata: infos sur le vote/) });
    const third = await postHubtel(h, { ...b, Type: 'Response', Message: '1' });
    expect(third.json).toMatchObject({ Type: 'Response', Message: expect.stringMatching(/^Comment voter/) });
    // An Initiation once the call has moved on does not follow it.
    expect((await postHubtel(h, { ...b, Type: 'Initiation', Message: '*384*123#' })).json).toMatchObject({ Type: 'Release', Message: OVER });
    expect(await steps(b.SessionId)).toBe(3);
  });

  it('answers a Response with an older Sequence with a clean Release', async () => {
    const b = base();
    await postHubtel(h, { ...b, Type: 'Initiation', Message: '*384*123#', Sequence: 1 });
    await postHubtel(h, { ...b, Type: 'Response', Message: '1', Sequence: 2 });
    const res = await postHubtel(h, { ...b, Type: 'Response', Message: '2', Sequence: 1 });
    expect(res).toMatchObject({ status: 200, json: { Type: 'Release', Message: 'Cet appel est terminé. Recomposez le code pour recommencer. Merci.' } });
    expect(await steps(b.SessionId)).toBe(2);
  });

  it('answers a Response with no session (lost or expired) with a clean Release', async () => {
    const res = await postHubtel(h, { ...base(), Type: 'Response', Message: '1', Sequence: 4 });
    expect(res).toMatchObject({ status: 200, json: { Type: 'Release', Message: 'Cet appel est terminé. Recomposez le code pour recommencer. Merci.' } });
  });

  it('echoes ClientState, cut to 100 characters', async () => {
    const b = base();
    const res = await postHubtel(h, { ...b, Type: 'Initiation', Message: '*384*123#', Sequence: 1, ClientState: 'é'.repeat(150) });
    expect(res.status).toBe(200);
    expect(res.json!.ClientState).toBe('é'.repeat(100));
    const next = await postHubtel(h, { ...b, Type: 'Response', Message: '1', Sequence: 2, ClientState: 'menu=home' });
    expect(next.json).toMatchObject({ Type: 'Response', ClientState: 'menu=home' });
    const none = await postHubtel(h, { ...b, Type: 'Response', Message: '1', Sequence: 3, ClientState: undefined });
    expect(none.json!.ClientState).toBe('');
  });

  it('answers 415 to a form body', async () => {
    const res = await postHubtel(h, 'SessionId=a&Mobile=22376000000&Type=Initiation', { contentType: 'application/x-www-form-urlencoded' });
    expect(res).toMatchObject({ status: 415, text: 'expected Content-Type: application/json' });
  });

  it.each([
    ['missing SessionId', { SessionId: undefined }, 400, 'SessionId is missing'],
    ['null SessionId', { SessionId: null }, 400, 'SessionId is missing'],
    ['SessionId with a space', { SessionId: 'a b' }, 400, 'SessionId must be printable ASCII without spaces'],
    ['missing Mobile', { Mobile: undefined }, 400, 'Mobile is missing'],
    ['Mobile as a number', { Mobile: 22376000000 }, 400, 'Mobile must be a string'],
    ['a local Ghanaian number', { Mobile: '0244123456' }, 400, 'Mobile is not a phone number'],
    ['missing ServiceCode', { ServiceCode: undefined }, 400, 'ServiceCode is missing'],
    ['an unknown Type', { Type: 'Begin' }, 400, 'Type must be Initiation, Response, Release, Timeout, Favorite or Query'],
    ['a fractional Sequence', { Sequence: 1.5 }, 400, 'Sequence must be a whole number'],
  ])('%s', async (_name, change, status, reason) => {
    const res = await postHubtel(h, { ...base(), Type: 'Initiation', Message: '*384*123#', Sequence: 1, ...change });
    expect({ status: res.status, text: res.text }).toEqual({ status, text: reason });
  });

  it('answers 400 to JSON that is not an object, or not JSON', async () => {
    expect(await postHubtel(h, '[1, 2]')).toMatchObject({ status: 400, text: 'expected a JSON object' });
    expect(await postHubtel(h, '{"SessionId":')).toMatchObject({ status: 400, text: 'request body cannot be read' });
  });
});

describe('Hubtel requests, read without a server', () => {
  const body = { Mobile: '233244123456', SessionId: 's1', ServiceCode: '*384*123#', Type: 'Initiation', Message: '*384*123#', Sequence: 1 };

  it('refuses a service code that is not ours with 403', () => {
    const parsed = toHubtelRequest(hubtelBodySchema.parse({ ...body, ServiceCode: '*999#' }), ['*384*123#'], 'ML');
    expect(parsed).toEqual({ ok: false, status: 403, reason: 'ServiceCode is not served here' });
    for (const code of ['384*1234', '999*384*123', '']) {
      expect(toHubtelRequest({ ...hubtelBodySchema.parse(body), ServiceCode: code }, ['*384*123#'], 'ML')).toMatchObject({ ok: false, status: 403 });
    }
  });

  it('serves its codes the way Hubtel writes them (384*123) and extended (384*123*1)', () => {
    for (const [code, recorded] of [
      ['384*123', '*384*123#'],
      ['*384*123#', '*384*123#'],
      [' 384*123 ', '*384*123#'],
      ['384*123*1', '*384*123*1#'],
    ]) {
      const parsed = toHubtelRequest(hubtelBodySchema.parse({ ...body, ServiceCode: code }), ['*384*123#'], 'ML');
      if (!parsed.ok || parsed.kind !== 'turn') throw new Error(`expected a turn for ${code}`);
      expect(parsed.turn.serviceCode).toBe(recorded);
    }
  });

  it('reads the sequence against the stored one', () => {
    const initiation = { type: 'initiation' as const, sequence: 1 as number | undefined, message: '*384*123*1*2#', dialInputs: ['1', '2'] };
    const response = { type: 'response' as const, sequence: 5 as number | undefined, message: 'Kati*Médine', dialInputs: [] };
    expect(resolveSequence(undefined, initiation)).toEqual({ kind: 'new', inputs: ['1', '2'] });
    expect(resolveSequence('1', initiation)).toEqual({ kind: 'replay' });
    expect(resolveSequence(undefined, response)).toEqual({ kind: 'mismatch' });
    expect(resolveSequence('4', response)).toEqual({ kind: 'step', input: 'Kati*Médine' });
    expect(resolveSequence('5', response)).toEqual({ kind: 'replay' });
    expect(resolveSequence('6', response)).toEqual({ kind: 'mismatch' });
    expect(resolveSequence('3', { ...initiation, sequence: 4 })).toEqual({ kind: 'mismatch' });
    // Without Sequence: the stored position decides.
    const bareInitiation = { ...initiation, sequence: undefined };
    const bareResponse = { ...response, sequence: undefined };
    expect(resolveSequence(undefined, bareInitiation)).toEqual({ kind: 'new', inputs: ['1', '2'] });
    expect(resolveSequence('i', bareInitiation)).toEqual({ kind: 'replay' });
    expect(resolveSequence('-', bareInitiation)).toEqual({ kind: 'mismatch' });
    expect(resolveSequence('4', bareInitiation)).toEqual({ kind: 'mismatch' });
    expect(resolveSequence('i', bareResponse)).toEqual({ kind: 'step', input: 'Kati*Médine' });
    expect(resolveSequence('-', bareResponse)).toEqual({ kind: 'step', input: 'Kati*Médine' });
    expect(resolveSequence('4', bareResponse)).toEqual({ kind: 'step', input: 'Kati*Médine' });
    expect(resolveSequence('-', response)).toEqual({ kind: 'step', input: 'Kati*Médine' });
    expect(resolveSequence(undefined, bareResponse)).toEqual({ kind: 'mismatch' });
  });

  it('reads the dial string and the number', () => {
    const parsed = toHubtelRequest(hubtelBodySchema.parse({ ...body, ServiceCode: '384*123', Message: '*384*123*1*2#', Type: 'initiation' }), [], 'ML');
    if (!parsed.ok || parsed.kind !== 'turn') throw new Error('expected a turn');
    expect(parsed.turn).toMatchObject({ channel: 'hubtel', phone: '+233244123456', marker: '1', networkCode: null, serviceCode: '*384*123#' });
    expect(parsed.turn.resolve(undefined)).toEqual({ kind: 'new', inputs: ['1', '2'] });
  });
});
