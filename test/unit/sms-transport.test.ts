/**
 * The Africa's Talking SMS transport: how gateway answers and errors map to
 * the worker's three outcomes, and the real `africastalking` SDK against a
 * mocked sandbox API (nock 15): the form it posts, HTTP errors, a gateway
 * that never answers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { createAtSmsTransport, mapAtError, mapAtResponse } from '../../src/channels/africastalking/sms-transport.js';

const AT = 'https://api.sandbox.africastalking.com';
const PATH = '/version1/messaging';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterAll(() => {
  nock.cleanAll();
  nock.restore();
  nock.enableNetConnect();
});

function answer(recipient: Record<string, unknown>) {
  return { SMSMessageData: { Message: 'Sent to 1/1 Total Cost: XOF 25', Recipients: [recipient] } };
}

function success(number: string, messageId = 'ATXid_unit_1') {
  return answer({ statusCode: 101, number, status: 'Success', cost: 'XOF 25', messageId });
}

describe('mapAtResponse', () => {
  it.each([
    [100, 'Processed'],
    [101, 'Success'],
    [102, 'Queued'],
  ])('statusCode %i (%s) is accepted, with the id, status and cost', (statusCode, status) => {
    const outcome = mapAtResponse(answer({ statusCode, number: '+22376000000', status, cost: 'XOF 25', messageId: 'ATXid_a' }));
    expect(outcome).toEqual({ kind: 'accepted', messageId: 'ATXid_a', status, statusCode, cost: 'XOF 25' });
  });

  it('an accepted recipient without id or cost gives nulls', () => {
    expect(mapAtResponse(answer({ statusCode: 101, status: 'Success' }))).toEqual({ kind: 'accepted', messageId: null, status: 'Success', statusCode: 101, cost: null });
  });

  it.each([
    [401, 'RiskHold'],
    [405, 'InsufficientBalance'],
    [500, 'InternalServerError'],
    [501, 'GatewayError'],
    [502, 'RejectedByGateway'],
  ])('statusCode %i (%s) is retried', (statusCode, status) => {
    expect(mapAtResponse(answer({ statusCode, number: '+22376000000', status, cost: '0' }))).toEqual({ kind: 'retry', reason: status, statusCode });
  });

  it.each([
    [402, 'InvalidSenderId'],
    [403, 'InvalidPhoneNumber'],
    [404, 'UnsupportedNumberType'],
    [406, 'UserInBlacklist'],
    [407, 'CouldNotRoute'],
  ])('statusCode %i (%s) is permanent', (statusCode, status) => {
    expect(mapAtResponse(answer({ statusCode, number: '+22376000000', status, cost: '0' }))).toEqual({ kind: 'permanent', reason: status, statusCode });
  });

  it('a statusCode given as a string is read as a number', () => {
    expect(mapAtResponse(answer({ statusCode: '101', status: 'Success', messageId: 'x' }))).toMatchObject({ kind: 'accepted', statusCode: 101 });
    expect(mapAtResponse(answer({ statusCode: '403', status: 'InvalidPhoneNumber' }))).toMatchObject({ kind: 'permanent', statusCode: 403 });
  });

  it('no recipient is a retry that quotes the gateway message', () => {
    expect(mapAtResponse({ SMSMessageData: { Message: 'InvalidSenderId', Recipients: [] } })).toEqual({
      kind: 'retry',
      reason: 'no recipient in the answer: InvalidSenderId',
    });
    expect(mapAtResponse({ SMSMessageData: { Message: 'x' } })).toMatchObject({ kind: 'retry' });
    expect(mapAtResponse({})).toEqual({ kind: 'retry', reason: 'no recipient in the answer: empty' });
    expect(mapAtResponse(undefined as never)).toEqual({ kind: 'retry', reason: 'no recipient in the answer: empty' });
  });

  it('a long gateway message is cut to 120 characters', () => {
    const outcome = mapAtResponse({ SMSMessageData: { Message: 'x'.repeat(500), Recipients: [] } });
    expect(outcome.kind).toBe('retry');
    expect((outcome as { reason: string }).reason).toBe(`no recipient in the answer: ${'x'.repeat(120)}`);
  });
});

describe('mapAtError', () => {
  const http = (status: number) => ({ message: `Request failed with status code ${status}`, code: 'ERR_BAD_RESPONSE', response: { status, data: 'error' } });

  it.each([500, 502, 503, 429, 408])('HTTP %i is retried', (status) => {
    expect(mapAtError(http(status))).toEqual({ kind: 'retry', reason: `HTTP ${status}`, statusCode: status });
  });

  it.each([401, 403])('HTTP %i is retried and points at the credentials', (status) => {
    expect(mapAtError(http(status))).toEqual({ kind: 'retry', reason: `HTTP ${status}: check AT_USERNAME and AT_API_KEY`, statusCode: status });
  });

  it.each([400, 404, 422])('HTTP %i is permanent', (status) => {
    expect(mapAtError(http(status))).toEqual({ kind: 'permanent', reason: `HTTP ${status}`, statusCode: status });
  });

  it('a network error (no response) is retried with its code', () => {
    expect(mapAtError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toEqual({ kind: 'retry', reason: 'network: ECONNRESET' });
    expect(mapAtError({ code: 'ETIMEDOUT', message: 'timeout' })).toEqual({ kind: 'retry', reason: 'network: ETIMEDOUT' });
  });

  it("the SDK's validation error for a bad number is permanent InvalidPhoneNumber", () => {
    expect(mapAtError(new Error('"to" must be a valid phone number; '))).toEqual({ kind: 'permanent', reason: 'InvalidPhoneNumber' });
    expect(mapAtError(new Error('"to[0]" must NOT contain invalid phone number; '))).toEqual({ kind: 'permanent', reason: 'InvalidPhoneNumber' });
  });

  it('any other error is retried with its message, cut to 120 characters', () => {
    expect(mapAtError(new Error('boom'))).toEqual({ kind: 'retry', reason: 'boom' });
    expect(mapAtError('plain string')).toEqual({ kind: 'retry', reason: 'plain string' });
    expect(mapAtError(new Error('y'.repeat(300)))).toEqual({ kind: 'retry', reason: 'y'.repeat(120) });
    expect(mapAtError(undefined)).toMatchObject({ kind: 'retry' });
  });
});

describe('createAtSmsTransport through the real SDK (sandbox, mocked with nock)', () => {
  const transport = createAtSmsTransport({ username: 'sandbox', apiKey: 'test-key', timeoutMs: 2000 });

  it('is named africastalking', () => {
    expect(transport.name).toBe('africastalking');
  });

  it('posts username, number and text as a form with the api key header, and maps the answer', async () => {
    let seen: { form: URLSearchParams; apikey: string | null; contentType: string | null } | undefined;
    const scope = nock(AT)
      .post(PATH)
      .reply(201, async (req: Request) => {
        seen = { form: new URLSearchParams(await req.text()), apikey: req.headers.get('apikey'), contentType: req.headers.get('content-type') };
        return success('+22376123456', 'ATXid_unit_ok');
      });
    const text = 'Kalata: signalement KA-7Q4M2XH bien enregistré. Gardez cette référence.';
    const outcome = await transport.send('+22376123456', text);
    expect(outcome).toEqual({ kind: 'accepted', messageId: 'ATXid_unit_ok', status: 'Success', statusCode: 101, cost: 'XOF 25' });
    expect(scope.isDone()).toBe(true);
    expect(seen).toBeDefined();
    expect(seen!.apikey).toBe('test-key');
    expect(seen!.contentType).toMatch(/application\/x-www-form-urlencoded/);
    expect(seen!.form.get('username')).toBe('sandbox');
    expect(seen!.form.get('to')).toBe('+22376123456');
    expect(seen!.form.get('message')).toBe(text);
    expect(seen!.form.has('from')).toBe(false);
  });

  it('sends the sender id as from when one is configured', async () => {
    const withSender = createAtSmsTransport({ username: 'sandbox', apiKey: 'test-key', senderId: 'KALATA', timeoutMs: 2000 });
    let form: URLSearchParams | undefined;
    nock(AT)
      .post(PATH)
      .reply(201, async (req: Request) => {
        form = new URLSearchParams(await req.text());
        return success('+22376123457');
      });
    await expect(withSender.send('+22376123457', 'x')).resolves.toMatchObject({ kind: 'accepted' });
    expect(form!.get('from')).toBe('KALATA');
  });

  it('a permanent recipient status in a 201 is permanent', async () => {
    nock(AT).post(PATH).reply(201, answer({ statusCode: 403, number: '+22376123458', status: 'InvalidPhoneNumber', cost: '0' }));
    await expect(transport.send('+22376123458', 'x')).resolves.toEqual({ kind: 'permanent', reason: 'InvalidPhoneNumber', statusCode: 403 });
  });

  it('HTTP 500 is a retry', async () => {
    const scope = nock(AT).post(PATH).reply(500, 'Internal Server Error');
    await expect(transport.send('+22376123459', 'x')).resolves.toEqual({ kind: 'retry', reason: 'HTTP 500', statusCode: 500 });
    expect(scope.isDone()).toBe(true);
  });

  it('HTTP 429 is a retry, HTTP 400 is permanent', async () => {
    nock(AT).post(PATH).reply(429, 'Too Many Requests');
    await expect(transport.send('+22376123460', 'x')).resolves.toEqual({ kind: 'retry', reason: 'HTTP 429', statusCode: 429 });
    nock(AT).post(PATH).reply(400, 'Bad Request');
    await expect(transport.send('+22376123460', 'x')).resolves.toEqual({ kind: 'permanent', reason: 'HTTP 400', statusCode: 400 });
  });

  it('HTTP 200 (not 201) is read by its recipients: a sent message is not sent again', async () => {
    nock(AT).post(PATH).reply(200, success('+22376123461'));
    const outcome = await transport.send('+22376123461', 'x');
    // Retrying a message the gateway reports as sent would risk a duplicate.
    expect(outcome.kind).toBe('accepted');
  });

  it('a connection reset is a network retry', async () => {
    nock(AT).post(PATH).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await expect(transport.send('+22376123462', 'x')).resolves.toEqual({ kind: 'retry', reason: 'network: ECONNRESET' });
  });

  it.each([
    ['+33123', 'must NOT contain invalid phone number'],
    ['abc', 'did not seem to be a phone number'],
    ['+2291', 'too short to be a phone number'],
  ])('a number the SDK refuses (%s: "%s") never reaches the network and is permanent', async (to) => {
    // Nothing is registered: a call would fail with NetConnectNotAllowedError (a retry, not this outcome).
    await expect(transport.send(to, 'x')).resolves.toEqual({ kind: 'permanent', reason: 'InvalidPhoneNumber' });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('a number with an unknown country code (accepted by normalizePhone) that the SDK refuses is permanent, not retried', async () => {
    // The SDK rejects '+99912345678' before any HTTP call with
    // '"to[0]" failed custom validation because Invalid country calling code; ':
    // retrying it can never work.
    await expect(transport.send('+99912345678', 'x')).resolves.toEqual({ kind: 'permanent', reason: 'InvalidPhoneNumber' });
  });

  it('a gateway that does not answer in time gives a retry "no answer within"', async () => {
    const slow = createAtSmsTransport({ username: 'sandbox', apiKey: 'test-key', timeoutMs: 150 });
    const scope = nock(AT).post(PATH).delay(1000).reply(201, success('+22376123463'));
    let landed = false;
    const replied = new Promise((resolve) => scope.once('replied', resolve)).then(() => (landed = true));
    const started = performance.now();
    const outcome = await slow.send('+22376123463', 'x');
    const elapsed = performance.now() - started;
    expect(outcome).toEqual({ kind: 'retry', reason: 'no answer within 150 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    // It gave up before the answer came, whatever the machine's load (no wall-clock ceiling).
    expect(landed).toBe(false);
    await replied; // let the late answer land before nock is restored
  });
});
