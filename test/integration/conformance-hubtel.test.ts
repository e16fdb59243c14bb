/**
 * Hubtel's own request shapes, replayed against a real Kalata (PostgreSQL
 * reached through a TCP proxy that the outage case cuts, Redis): the
 * payloads come from Hubtel's .NET SDK (its README sample, its unit tests,
 * its models) and from Hubtel's programmable-services docs, each case naming
 * its source. Every reply, on every screen (a menu, a free-text input, the
 * END, the apology when the database is away, the rate-limit END, the
 * "call over" release), must carry every field the docs make mandatory,
 * with a value Hubtel knows.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { createHubtelSessionEnds } from '../../src/channels/hubtel/session-ends.js';
import { hubtelUssdHandler, parseHubtelJson } from '../../src/channels/hubtel/ussd-handler.js';
import type { HubtelReply } from '../../src/channels/hubtel/ussd-request.js';
import { startTcpProxy, type TcpProxy } from '../../src/local-servers/local-tcp-proxy.js';
import { createDatabase, migrateToLatest } from '../../src/store/database.js';
import { hubtelReplyProblems, postHubtel, type HubtelBody } from '../support/channels.js';
import { freshDatabase } from '../support/databases.js';
import { startHarness, type Harness } from '../support/harness.js';

/** Where each payload shape comes from. */
const SOURCE = {
  sdkReadme: 'github.com/hubtel/programmable-services-sdk-dotnet README.md ("sample request from Hubtel")',
  sdkTests: 'github.com/hubtel/programmable-services-sdk-dotnet tests/Hubtel.ProgrammableServices.Sdk.UnitTests/HubtelProgrammableServicesShould.cs',
  sdkActionTypes: 'github.com/hubtel/programmable-services-sdk-dotnet src/Hubtel.ProgrammableServices.Sdk/Models/ProgrammableServiceActionType.cs',
  sdkRequest: 'github.com/hubtel/programmable-services-sdk-dotnet src/Hubtel.ProgrammableServices.Sdk/Models/ProgrammableServiceRequest.cs',
  docsSample: 'https://hubtel.readme.io/reference/sample-general-services-interaction',
  docsReference: 'https://developers.hubtel.com/docs/api-reference-prog-services',
  businessDocs: 'https://businessdocs-developers.hubtel.com/docs/api-reference-prog-services',
} as const;

/** The service ids of the two samples are allowed beside the dial codes: Hubtel sends an id for its app channels. */
const SERVICE_CODES = '*713#,*384*123#,7c920dc49b7a40588c657119ce599044,b230733cd56b4a0fad820e39f66bc27c';
const RATE_LIMIT = 12;
const OVER = 'Cet appel est terminé. Recomposez le code pour recommencer. Merci.';
const APOLOGY = 'Service indisponible. Rappelez dans quelques minutes. Merci.';

let proxy: TcpProxy;
let h: Harness;
const run = Date.now();
let n = 0;
/** A fresh session id (32 hex digits, as the SDK's tests make them with Guid "N") and a fresh Malian caller. */
const fresh = () => {
  n++;
  return { SessionId: `${run.toString(16)}${String(n).padStart(8, '0')}`.padEnd(32, '0'), Mobile: `2237650${String(n).padStart(4, '0')}` };
};

beforeAll(async () => {
  const direct = await freshDatabase('conformance hubtel');
  proxy = await startTcpProxy(Number(new URL(direct).port));
  const viaProxy = new URL(direct);
  viaProxy.port = String(proxy.port);
  const db = await createDatabase({ url: direct });
  await migrateToLatest(db);
  await db.destroy();
  h = await startHarness('conformance hubtel', {
    databaseUrl: viaProxy.toString(),
    // The texts as written, to compare them with the French of the flows; the default (ascii) is tested below.
    env: { USSD_SERVICE_CODES: SERVICE_CODES, RATE_LIMIT_PER_PHONE: String(RATE_LIMIT), RATE_LIMIT_PER_IP: '0', HUBTEL_TEXT_FORM: 'as_written' },
  });
});

afterAll(async () => {
  proxy.restore();
  await h.close();
  await proxy.close();
});

/** Posts a body and demands a 200 with a reply Hubtel accepts; returns the reply. */
async function reply(body: HubtelBody): Promise<HubtelReply> {
  const res = await postHubtel(h, body);
  expect({ status: res.status, problems: hubtelReplyProblems(res.json, body.SessionId as string) }).toEqual({ status: 200, problems: [] });
  return res.json!;
}

/** A waiting screen: the caller answers a number from it, or types free text. */
const waitsFor = (fieldType: 'number' | 'text') => ({ Type: 'Response', DataType: 'input', FieldType: fieldType });
/** A final screen. */
const final = (message: string | RegExp) => ({ Type: 'Release', DataType: 'display', FieldType: 'text', Message: typeof message === 'string' ? message : expect.stringMatching(message) });

describe(`the SDK's sample request, verbatim (${SOURCE.sdkReadme}): no Sequence, a service id for ServiceCode`, () => {
  const sample = { Mobile: '233244234546', SessionId: '234567ityjhgwe654765utrye', ServiceCode: '7c920dc49b7a40588c657119ce599044', Type: 'initiation', Message: '*711*23#', Operator: 'mtn', Platform: 'USSD' };

  it('starts a call, and the call goes on without Sequence', async () => {
    const first = await reply(sample);
    expect(first).toMatchObject({ ...waitsFor('number'), SessionId: sample.SessionId, Label: 'Kalata. Langue / Kan:', ClientState: '' });
    expect(first.Message).toBe('Kalata. Langue / Kan:\n1. Français\n2. Bamanankan');
    // The next request as the SDK's model would carry it: Type Response, the newest input, no Sequence.
    const second = await reply({ ...sample, Type: 'response', Message: '1' });
    expect(second).toMatchObject({ ...waitsFor('number'), Message: expect.stringMatching(/^Kalata: infos sur le vote/) });
    const call = await h.ctx.db.selectFrom('calls').select(['service_code', 'network_code', 'steps']).where('gateway_session_id', '=', sample.SessionId).executeTakeFirstOrThrow();
    expect(call).toEqual({ service_code: sample.ServiceCode, network_code: 'mtn', steps: 2 });
  });
});

describe(`the docs' sample interaction (${SOURCE.docsSample}): the Hubtel app, Sequence as a string`, () => {
  // Step 1 verbatim; the next steps keep its shape with the next Sequence.
  const sample = { Sequence: '1', Type: 'initiation', Message: '', ServiceCode: 'b230733cd56b4a0fad820e39f66bc27c', Operator: 'Hubtel-Android', ClientState: '', Mobile: '233246912184', SessionId: '8d440a43a98b4614b9df22b79c8190b8' };

  it('starts, steps, and answers a retry with the same reply', async () => {
    const first = await reply(sample);
    expect(first).toMatchObject(waitsFor('number'));
    const second = await reply({ ...sample, Sequence: '2', Type: 'response', Message: '1', ClientState: 'from-the-last-reply' });
    expect(second).toMatchObject({ ...waitsFor('number'), ClientState: 'from-the-last-reply' });
    expect(await reply({ ...sample, Sequence: '2', Type: 'response', Message: '1', ClientState: 'from-the-last-reply' })).toEqual(second);
  });
});

describe(`a whole call through the USSD shape (the fields of ${SOURCE.docsReference}, ServiceCode as ${SOURCE.businessDocs} writes it)`, () => {
  it('a menu, two free-text inputs, a confirmation and the END: every screen complete', async () => {
    const call = { ...fresh(), ServiceCode: '713', Operator: 'mtn', Platform: 'USSD' };
    const screens: HubtelReply[] = [await reply({ ...call, Type: 'Initiation', Message: '*713#', Sequence: 1, ClientState: '' })];
    const inputs = ['1', '2', '1', '1', '1', '5', 'Quartier Médine, bureau 4', "On distribue de l'argent devant le bureau", '1'];
    for (const [i, input] of inputs.entries()) {
      screens.push(await reply({ ...call, Type: 'Response', Message: input, Sequence: i + 2, ClientState: screens[i]!.ClientState }));
    }
    expect(screens.slice(0, 6).map((s) => s.FieldType)).toEqual(['number', 'number', 'number', 'number', 'number', 'number']);
    // After the region: where it happened, then what happened, both typed as text.
    expect(screens[6]).toMatchObject(waitsFor('text'));
    expect(screens[7]).toMatchObject(waitsFor('text'));
    expect(screens[8]).toMatchObject({ ...waitsFor('number'), Message: expect.stringMatching(/^Envoyer ce signalement\?/) });
    expect(screens[9]).toMatchObject({ ...final(/^Merci\. Votre référence: KA-[0-9A-Z]{7}\./), Label: expect.stringMatching(/^Merci\. Votre référence: KA-/) });
    for (const s of screens) expect(Array.from(s.Label).length).toBeLessThanOrEqual(40);
    const row = await h.ctx.db.selectFrom('calls').select(['service_code', 'outcome']).where('gateway_session_id', '=', call.SessionId).executeTakeFirstOrThrow();
    expect(row).toEqual({ service_code: '*713#', outcome: 'completed' });
  });

  it('the offer to continue a call dropped at a free-text input asks for a number', async () => {
    const call = { ...fresh(), ServiceCode: '713', Operator: 'mtn' };
    let last = await reply({ ...call, Type: 'Initiation', Message: '*713#', Sequence: 1 });
    for (const [i, input] of ['1', '2', '1', '1', '1', '5'].entries()) last = await reply({ ...call, Type: 'Response', Message: input, Sequence: i + 2 });
    expect(last).toMatchObject(waitsFor('text'));
    // The call drops (no Release); the caller dials again.
    const again = await reply({ ...call, SessionId: fresh().SessionId, Type: 'Initiation', Message: '*713#', Sequence: 1 });
    expect(again).toMatchObject(waitsFor('number'));
    expect(again).toMatchObject({ Message: "Votre appel précédent a été coupé.\n1. Continuer où j'en étais\n2. Recommencer", Label: 'Votre appel précédent a été coupé.' });
    // Continuing comes back to the free-text input.
    expect(await reply({ ...call, SessionId: again.SessionId, Type: 'Response', Message: '1', Sequence: 2 })).toMatchObject(waitsFor('text'));
  });
});

describe(`service codes (${SOURCE.businessDocs}: "the USSD shortcode dialed. eg: 711*2")`, () => {
  it.each([
    ['713', '*713#'],
    ['*713#', '*713#'],
    ['713*1', '*713*1#'],
    ['384*123', '*384*123#'],
  ])('serves %s (USSD_SERVICE_CODES=*713#,*384*123#)', async (serviceCode, message) => {
    expect(await reply({ ...fresh(), ServiceCode: serviceCode, Type: 'Initiation', Message: message, Sequence: 1, Operator: 'mtn' })).toMatchObject(waitsFor('number'));
  });

  it.each(['711*2', '7131', '71', '384*1234'])('refuses %s with 403 and a plain reason', async (serviceCode) => {
    const res = await postHubtel(h, { ...fresh(), ServiceCode: serviceCode, Type: 'Initiation', Message: `*${serviceCode}#`, Sequence: 1, Operator: 'mtn' });
    expect({ status: res.status, text: res.text }).toEqual({ status: 403, text: 'ServiceCode is not served here' });
  });

  it('reads the inputs typed after the code in the dial string, as before', async () => {
    const call = fresh();
    const first = await reply({ ...call, ServiceCode: '713', Type: 'Initiation', Message: '*713*1*1#', Sequence: 1, Operator: 'mtn' });
    expect(first).toMatchObject({ ...waitsFor('number'), Message: expect.stringMatching(/^Comment voter/) });
  });
});

describe(`the SDK's request types (${SOURCE.sdkActionTypes}) and test requests (${SOURCE.sdkTests})`, () => {
  // The SDK's tests build these requests with Operator "Hubtel-Android", Mobile "233249441409" and a Guid "N" SessionId;
  // a ServiceCode is added, which Hubtel always sends (SOURCE.docsReference).
  const sdkRequest = () => ({ Operator: 'Hubtel-Android', Mobile: '233249441409', SessionId: fresh().SessionId, ServiceCode: '*713#' });

  it('a Response for a session never started (Provide_Response_With_Release_Type_When_SessionId_Is_Not_Found_For_Initial_Response_Request): a release', async () => {
    expect(await reply({ ...sdkRequest(), Type: 'Response', Message: '' })).toMatchObject(final(OVER));
  });

  it.each(['Release', 'Timeout'])('%s closes the call with that outcome; what follows on the session gets a release', async (type) => {
    const b = sdkRequest();
    expect(await reply({ ...b, Type: 'Initiation', Message: '' })).toMatchObject(waitsFor('number'));
    expect(await reply({ ...b, Type: type, Message: '' })).toMatchObject(final(OVER));
    const row = await h.ctx.db.selectFrom('calls').select(['telco_status', 'outcome', 'ended_at', 'steps']).where('gateway_session_id', '=', b.SessionId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ telco_status: type, outcome: 'abandoned', ended_at: expect.any(Date), steps: 1 });
    expect(await reply({ ...b, Type: 'Response', Message: '1' })).toMatchObject(final(OVER));
    expect(await reply({ ...b, Type: 'Initiation', Message: '' })).toMatchObject(final(OVER));
    expect((await h.ctx.db.selectFrom('calls').select('steps').where('gateway_session_id', '=', b.SessionId).executeTakeFirstOrThrow()).steps).toBe(1);
  });

  it('a Timeout for a session never seen (Provide_Response_With_Release_Type_When_Request_Type_Is_Timeout_From_Hubtel): a release', async () => {
    expect(await reply({ ...sdkRequest(), Type: 'Timeout' })).toMatchObject(final(OVER));
  });

  it('Favorite ("a special case of Initiation") starts a call; Query gets a plain release', async () => {
    expect(await reply({ ...fresh(), ServiceCode: '713', Operator: 'mtn', Type: 'Favorite', Message: '*713#' })).toMatchObject(waitsFor('number'));
    expect(await reply({ ...fresh(), ServiceCode: '713', Operator: 'mtn', Type: 'Query', Message: '' })).toMatchObject(final(/Query/));
  });

  it(`a Sequence of 0 (the default of the SDK's model, ${SOURCE.sdkRequest}) reads as none`, async () => {
    const b = { ...fresh(), ServiceCode: '713', Operator: 'mtn' };
    expect(await reply({ ...b, Type: 'Initiation', Message: '*713#', Sequence: 0 })).toMatchObject(waitsFor('number'));
    expect(await reply({ ...b, Type: 'Response', Message: '1', Sequence: 0 })).toMatchObject({ ...waitsFor('number'), Message: expect.stringMatching(/^Kalata: infos sur le vote/) });
  });

  it.each([
    ['an unknown type (Provide_Response_With_Release_Type_When_Request_Type_Is_Unknown)', { Type: 'blah blah' }, 'Type must be Initiation, Response, Release, Timeout, Favorite or Query'],
    ['no ServiceCode (as the SDK tests build requests)', { ServiceCode: undefined, Type: 'Initiation' }, 'ServiceCode is missing'],
    ['no SessionId (the SDK Timeout test sends only a Type)', { SessionId: undefined, Type: 'Timeout' }, 'SessionId is missing'],
  ])('%s: 400 and a plain reason', async (_name, change, reason) => {
    const res = await postHubtel(h, { ...sdkRequest(), Message: '', ...change });
    expect({ status: res.status, text: res.text }).toEqual({ status: 400, text: reason });
  });
});

describe('the apology and the rate limit are complete replies too', () => {
  it('the database away: a lookup fails and the caller gets the apology as a release', async () => {
    const call = { ...fresh(), ServiceCode: '713', Operator: 'mtn' };
    const screens = [await reply({ ...call, Type: 'Initiation', Message: '*713#', Sequence: 1 })];
    proxy.cut();
    try {
      // French, then "where do I vote", then "by NINA number": its lookup needs the database.
      for (const [i, input] of ['1', '3', '1'].entries()) screens.push(await reply({ ...call, Type: 'Response', Message: input, Sequence: i + 2 }));
    } finally {
      proxy.restore();
    }
    expect(screens[2]).toMatchObject(waitsFor('number'));
    expect(screens[3]).toMatchObject({ ...final(APOLOGY), Label: 'Service indisponible. Rappelez dans' });
  });

  it('too many requests from one number: the rate-limit END as a release', async () => {
    const caller = fresh().Mobile;
    const replies: HubtelReply[] = [];
    for (let i = 0; i <= RATE_LIMIT; i++) replies.push(await reply({ ...fresh(), Mobile: caller, ServiceCode: '713', Operator: 'mtn', Type: 'Initiation', Message: '*713#', Sequence: 1 }));
    expect(replies[RATE_LIMIT - 1]).toMatchObject(waitsFor('number'));
    expect(replies[RATE_LIMIT]).toMatchObject(final('Trop de demandes en peu de temps. Rappelez dans une minute. Merci.'));
  });
});

describe('a Hubtel handler set to plain ASCII (Hubtel\'s docs warn against special characters such as É)', () => {
  it('shows the screens, and so the labels, in ASCII', async () => {
    const app = express();
    app.post(
      '/ussd/hubtel',
      parseHubtelJson,
      hubtelUssdHandler({
        runtime: h.ctx.calls,
        logger: h.ctx.logger,
        serviceCodes: [],
        defaultCountry: 'ML',
        sessionEnds: createHubtelSessionEnds({ runtime: h.ctx.calls, redis: h.ctx.redis, prefix: h.ctx.redisPrefix, ttlSeconds: 60 }),
        textForm: 'ascii',
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ussd/hubtel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...fresh(), ServiceCode: '713', Type: 'Initiation', Message: '*713#', Sequence: 1, Operator: 'mtn' }),
      });
      const json = (await res.json()) as HubtelReply;
      expect(hubtelReplyProblems(json)).toEqual([]);
      expect(json).toMatchObject({ ...waitsFor('number'), Message: 'Kalata. Langue / Kan:\n1. Francais\n2. Bamanankan' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
