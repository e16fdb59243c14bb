/**
 * The voice line's two translations for Africa's Talking (issue 17): the
 * callback's fields, replayed from real traffic and AT's documentation, and
 * the XML answer, parsed with a real XML parser and held to the elements and
 * attributes AT documents. Sources are in docs/at-voice-protocol.md.
 */
import { describe, expect, it } from '@jest/globals';
import { XMLParser } from 'fast-xml-parser';
import { problemsOf } from '../support/voice-at.js';
import { readVoiceCallback } from '../../src/channels/africastalking/voice-request.js';
import { voiceXml, VoiceXmlError, type VoiceAction } from '../../src/channels/africastalking/voice-xml.js';

/** A urlencoded body as express.urlencoded reads it. */
const form = (body: string) => Object.fromEntries(new URLSearchParams(body));

describe("AT's voice callback", () => {
  // Source: instedd/verboice issue #894 (Uganda, 2021), the first request of an answered outbound call,
  // converted to the wire form in docs/at-voice-protocol.md §1.3 (masked digits of the numbers filled in).
  const answeredOutbound = 'callSessionState=Answered&sessionId=ATVId_11163e2ea9a58f3a7999fecda8eeb43a&callerCountryCode=256&callerCarrierName=Airtel&isActive=1&callStartTime=2021-10-13%2B19%3A10%3A16&direction=Outbound&destinationNumber=%2B256312000647&callerNumber=%2B256772009081';
  // Source: instedd/verboice issue #902 (Uganda, 2022), the final notification of an outbound call never answered.
  const notAnswered = 'callSessionState=NotAnswered&hangupCause=SUBSCRIBER_ABSENT&direction=Outbound&callerCountryCode=256&durationInSeconds=0&amount=0&callerNumber=%2B256772000111&destinationNumber=%2B256312000222&callerCarrierName=MTN&status=NotAnswered&sessionId=ATVId_221c9e6c4045a27a3a94e71a49a90b8c&callStartTime=None&isActive=0&currencyCode=UGX';
  // Source: a PHP call-centre controller's comment quoted in docs/at-voice-protocol.md §1.3 C (Uganda, 2023), an inbound call's end.
  const inboundEnd = 'dialDurationInSeconds=6&destinationNumber=%2B256312319003&recordingUrl=http%3A%2F%2F41.210.130.212%3A8080%2F5d5e2457ca70ee2a65a3e1c3e23c1efc.mp3&callerCarrierName=MTN&dialStartTime=2023-01-18%2B20%3A05%3A25&sessionId=ATVId_4ae09e41dc3fa616b1aa42c792d95805&status=Success&callSessionState=Completed&callerNumber=%2B256783204665&callStartTime=2023-01-18%2B20%3A04%3A52&direction=Inbound&amount=147.440&currencyCode=UGX&durationInSeconds=39&isActive=0';
  // Source: AT's old docs (callhandler, getdigits): the usual fields and dtmfDigits, keys ending with finishOnKey.
  const afterGetDigits = 'isActive=1&sessionId=ATVId_0a1b2c&direction=Inbound&callerNumber=%2B22376123456&destinationNumber=%2B22320200000&dtmfDigits=1234567890123%23';

  it('reads the first request of an answered call: the citizen is callerNumber, whichever way the call goes', () => {
    expect(readVoiceCallback(form(answeredOutbound), 'ML')).toEqual({
      ok: true,
      event: { kind: 'step', gatewaySessionId: 'ATVId_11163e2ea9a58f3a7999fecda8eeb43a', direction: 'Outbound', phone: '+256772009081', destination: '+256312000647' },
    });
  });

  it('reads the keys pressed after a GetDigits, without the # that ends them', () => {
    expect(readVoiceCallback(form(afterGetDigits), 'ML')).toMatchObject({ ok: true, event: { kind: 'step', phone: '+22376123456', digits: '1234567890123' } });
    // A Mali number sent without its + is read by DEFAULT_COUNTRY, as on USSD.
    expect(readVoiceCallback(form(afterGetDigits.replace('%2B22376123456', '76123456')), 'ML')).toMatchObject({ ok: true, event: { phone: '+22376123456' } });
  });

  it('reads a final notification: duration, cost and how it ended', () => {
    expect(readVoiceCallback(form(notAnswered), 'ML')).toEqual({
      ok: true,
      event: { kind: 'ended', gatewaySessionId: 'ATVId_221c9e6c4045a27a3a94e71a49a90b8c', phone: '+256772000111', status: 'NotAnswered / SUBSCRIBER_ABSENT', durationMs: 0, cost: '0 UGX', hangupCause: 'SUBSCRIBER_ABSENT' },
    });
    expect(readVoiceCallback(form(inboundEnd), 'ML')).toMatchObject({
      ok: true,
      event: { kind: 'ended', status: 'Completed', durationMs: 39_000, cost: '147.440 UGX', recordingUrl: 'http://41.210.130.212:8080/5d5e2457ca70ee2a65a3e1c3e23c1efc.mp3' },
    });
  });

  it.each([
    ['no sessionId', answeredOutbound.replace(/sessionId=[^&]+&/, ''), 'sessionId is missing'],
    ['isActive not 0 or 1', answeredOutbound.replace('isActive=1', 'isActive=true'), 'isActive is 1 (a live call) or 0 (its end)'],
    ['an unknown direction', answeredOutbound.replace('direction=Outbound', 'direction=Sideways'), 'direction is Inbound or Outbound'],
    ['a caller number that is no number', answeredOutbound.replace('%2B256772009081', '%2B2567XXXX9081'), 'callerNumber is not a phone number'],
    ['keys that are no keys', afterGetDigits.replace('1234567890123%23', '12a'), 'dtmfDigits holds something other than keys 0-9, * and #'],
    ['a recording that is no URL', afterGetDigits + '&recordingUrl=javascript%3Aalert(1)', 'recordingUrl is not an http(s) URL'],
    ['sessionId twice', `${answeredOutbound}&sessionId=ATVId_other`, 'sessionId is given more than once'],
  ])('refuses %s with a plain reason', (_what, body, reason) => {
    const fields = new URLSearchParams(body);
    // express.urlencoded (extended: false) makes a repeated field an array.
    const read = Object.fromEntries([...new Set(fields.keys())].map((k) => [k, fields.getAll(k).length > 1 ? fields.getAll(k) : fields.get(k)]));
    expect(readVoiceCallback(read, 'ML')).toEqual({ ok: false, reason });
  });
});

describe("the voice line's XML", () => {
  const menu: VoiceAction[] = [
    { getDigits: { play: 'https://kalata.example/recordings/bm/main/home.title.mp3?v=3&lang=bm' }, timeout: 8, finishOnKey: '#', numDigits: 1, callbackUrl: 'https://kalata.example/voice/africastalking?s=1&t=2' },
    { say: 'Nous n’avons rien entendu. Au revoir.', voice: 'woman' },
  ];

  it('writes AT\'s elements and attributes only, escaped, in a document a real parser reads', () => {
    const xml = voiceXml(menu);
    expect(problemsOf(xml)).toEqual([]);
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><GetDigits timeout="8" finishOnKey="#" numDigits="1" callbackUrl="https://kalata.example/voice/africastalking?s=1&amp;t=2"><Play url="https://kalata.example/recordings/bm/main/home.title.mp3?v=3&amp;lang=bm"/></GetDigits><Say voice="woman">Nous n’avons rien entendu. Au revoir.</Say></Response>',
    );
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as { Response: { GetDigits: { callbackUrl: string } } };
    expect(parsed.Response.GetDigits.callbackUrl).toBe('https://kalata.example/voice/africastalking?s=1&t=2');
  });

  it('records a report\'s description with a beep, a maximum length and silence trimmed', () => {
    const xml = voiceXml([{ record: { say: 'Décrivez ce que vous avez vu <après> le bip & raccrochez.' }, maxLength: 120, timeout: 5, trimSilence: true, playBeep: true, finishOnKey: '#' }]);
    expect(problemsOf(xml)).toEqual([]);
    expect(xml).toContain('<Say>Décrivez ce que vous avez vu &lt;après&gt; le bip &amp; raccrochez.</Say>');
  });

  it('dials the advisers, redirects, rejects a missed call', () => {
    for (const actions of [[{ say: 'Un conseiller va répondre.' }, { dial: ['+22320200001', '+22376000002'], sequential: true, maxDuration: 600 }], [{ redirect: 'https://kalata.example/voice/africastalking?x=1&y=2' }], [{ reject: true }]] as VoiceAction[][]) {
      expect(problemsOf(voiceXml(actions))).toEqual([]);
    }
    expect(voiceXml([{ reject: true }])).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>');
  });

  it('holds the checker to what AT refuses (a document with a foreign element or attribute fails it)', () => {
    expect(problemsOf('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/><Say lang="fr">x</Say><GetDigits><Dial phoneNumbers="+1"/></GetDigits></Response>')).toEqual([
      'unknown element <Hangup>',
      'attribute lang on <Say>',
      '<Dial> inside <GetDigits>',
    ]);
    expect(problemsOf('<Response><Say>a & b</Say></Response>')[0]).toMatch(/^not XML/);
  });

  it.each([
    ['Reject with anything else', [{ reject: true }, { say: 'x' }], 'Reject must be the only action'],
    ['an action after a Redirect', [{ redirect: 'https://kalata.example/v' }, { say: 'x' }], 'nothing runs after Redirect, Reject or a terminal Record'],
    ['a Play that is no URL', [{ play: 'recordings/bm/x.mp3' }], 'Play url must be an absolute http(s) URL'],
    ['a silent Say', [{ say: '  ' }], 'Say needs text'],
    ['a text XML cannot carry', [{ say: 'bip\u0007' }], 'Say holds a character XML cannot carry'],
    ['a number that is no E.164', [{ dial: ['76000002'] }], 'Dial needs numbers in E.164 (+223...)'],
    ['a timeout of no seconds', [{ getDigits: { say: 'x' }, timeout: 0.5 }], 'GetDigits timeout is a whole number of seconds from 1 to 3600'],
    ['nothing at all', [], 'a response needs at least one action'],
  ])('refuses %s', (_what, actions, message) => {
    expect(() => voiceXml(actions as VoiceAction[])).toThrow(new VoiceXmlError(message));
  });
});
