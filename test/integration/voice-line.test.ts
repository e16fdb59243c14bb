/**
 * The voice line (issue 17) on a real web process, PostgreSQL and Redis:
 * Africa's Talking's voice callbacks, as a caller who follows the XML. With
 * no recordings, French is spoken by AT's text-to-speech and Bambara is not
 * offered; a report is filed by voice with its place and description
 * recorded; silences repeat the screen once, then say goodbye; AT's final
 * notification closes the call with its duration, cost and hang-up cause.
 * During advisers' hours (flows/voice.yaml) the home menu offers 9, a Dial.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkFlows } from '../../src/flows/flow-set.js';
import { advisersAnswer } from '../../src/flows/voice-settings.js';
import { addUser } from '../../src/store/user-store.js';
import { contentCopy } from '../support/content.js';
import { startHarness, type Harness } from '../support/harness.js';
import { voiceCaller } from '../support/voice-at.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('voice line');
}, 60_000);
afterAll(() => h.close());

const caller = (n: number) => voiceCaller(h.base, { sessionId: `ATVId_voice${n}${Date.now()}`, callerNumber: `+2237600${String(n).padStart(4, '0')}` });

describe('the voice line in French, by text-to-speech', () => {
  it('offers the languages it can speak: French, not Bambara without its recordings', async () => {
    const call = caller(1);
    const first = await call.start();
    const menu = first.actions.find((a) => a.tag === 'GetDigits')!;
    expect(menu.attrs).toMatchObject({ numDigits: '1', callbackUrl: `${h.base}/voice/africastalking` });
    expect(first.said).toContain('Français');
    expect(first.said).toContain('tapez un');
    expect(first.said).not.toContain('Bamanankan');
    // A GetDigits that hears nothing runs the next action: back here, counted.
    expect(first.actions.at(-1)).toMatchObject({ tag: 'Redirect', text: `${h.base}/voice/africastalking?silence=1` });
    const home = await call.press('1');
    expect(home.said).toMatch(/Comment voter, tapez un\./);
  });

  it('files a report by voice: keys for the choices, recordings for the place and the description', async () => {
    const call = caller(2);
    await call.start();
    await call.press('1'); // Français
    const intro = await call.press('2'); // signaler
    expect(intro.said).toContain('Signaler une fraude');
    const contact = await call.press('1'); // faire un signalement
    expect(contact.said).toContain('SMS');
    const incident = await call.press('2'); // sans SMS
    // Ten types: the number, then #.
    const ask = incident.actions.find((a) => a.tag === 'GetDigits')!;
    expect(ask.attrs).toMatchObject({ finishOnKey: '#' });
    expect(incident.said).toContain('Achat de votes');
    expect(incident.said).toContain('Autre, tapez 10.');
    const region = await call.press('10#');
    expect(region.said).toContain('Bamako');
    const place = await call.press('1#');
    const record = place.actions.find((a) => a.tag === 'Record')!;
    expect(record.attrs).toMatchObject({ playBeep: 'true', trimSilence: 'true', finishOnKey: '#' });
    expect(place.said).toContain('après le bip');
    const description = await call.speak('https://voice.africastalking.com/rec/place-0001.mp3');
    expect(description.actions.some((a) => a.tag === 'Record')).toBe(true);
    const confirm = await call.speak('https://voice.africastalking.com/rec/description-0001.mp3');
    expect(confirm.said).toMatch(/^Envoyer ce signalement\? Autre District de Bamako\. Envoyer, tapez un\./);
    expect(confirm.said).not.toContain('voice.africastalking.com');
    const done = await call.press('1');
    // The end: no more waiting, the reference said letter by letter.
    expect(done.actions.some((a) => a.tag === 'GetDigits' || a.tag === 'Record' || a.tag === 'Redirect')).toBe(false);
    const report = await h.ctx.db.selectFrom('reports').selectAll().orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(report.fields).toMatchObject({ incident: 'other', region: 'bamako', place: 'https://voice.africastalking.com/rec/place-0001.mp3', description: 'https://voice.africastalking.com/rec/description-0001.mp3' });
    expect(done.said).toContain([...report.ref.replace(/-/g, '')].join(' '));

    const end = await call.hangUp();
    expect(end).toEqual({ status: 200, body: 'OK' });
    const closed = await h.ctx.db.selectFrom('calls').selectAll().where('gateway_session_id', '=', call.sessionId).executeTakeFirstOrThrow();
    expect(closed).toMatchObject({ channel: 'voice', outcome: 'completed', steps: 10, telco_status: 'Completed / NORMAL_CLEARING', telco_duration_ms: 95_000, telco_cost: '42.5000 XOF', telco_error: 'NORMAL_CLEARING' });
    expect(h.logs.join('')).not.toContain('+22376000002');
  });

  it('says the screen once more after a silence, then goodbye', async () => {
    const call = caller(3);
    await call.start();
    const again = await call.silence();
    expect(again.said).toMatch(/^Nous n'avons rien entendu\. .*Français/);
    expect(again.actions.at(-1)).toMatchObject({ tag: 'Redirect', text: `${h.base}/voice/africastalking?silence=2` });
    const bye = await call.silence();
    expect(bye.said).toBe("Nous n'avons rien entendu. Rappelez quand vous voulez. Au revoir.");
    expect(bye.actions.map((a) => a.tag)).toEqual(['Say']);
  });

  it('answers a malformed callback with a 400 and a plain reason', async () => {
    const res = await fetch(`${h.base}/voice/africastalking`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'isActive=1&sessionId=x' });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/direction|callerNumber/);
  });
});

describe('an adviser during staffed hours (flows/voice.yaml)', () => {
  let staffed: Harness;
  beforeAll(async () => {
    const content = contentCopy('kalata-voice-adviser-');
    writeFileSync(
      join(content.FLOWS_DIR, 'voice.yaml'),
      'adviser:\n  numbers: ["+22320000001", "+22320000002"]\n  time_zone: Africa/Bamako\n  hours:\n    - { days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "23:59" }\n  max_minutes: 15\n',
    );
    staffed = await startHarness('voice adviser', { env: { ...content } });
  }, 60_000);
  afterAll(() => staffed.close());

  it('offers 9 on the home menu, and puts the caller through with Dial; nobody answering brings the menu back', async () => {
    const call = voiceCaller(staffed.base, { sessionId: `ATVId_adv${Date.now()}`, callerNumber: '+22376000901' });
    await call.start();
    const home = await call.press('1');
    expect(home.said).toContain('Pour parler à un conseiller, tapez neuf.');
    const through = await call.press('9');
    expect(through.actions.map((a) => a.tag)).toEqual(['Say', 'Dial', 'Redirect']);
    expect(through.actions[0]!.text).toBe('Nous vous passons un conseiller. Restez en ligne.');
    expect(through.actions[1]!.attrs).toEqual({ phoneNumbers: '+22320000001,+22320000002', sequential: 'true', maxDuration: '900' });
    // No adviser picked up: AT runs the Redirect, and the caller is on the home menu again.
    const back = await call.silence();
    expect(back.said).toContain('Pour parler à un conseiller, tapez neuf.');
  });

  it('checks the file at its line: a number not in E.164 is an error', () => {
    const content = contentCopy('kalata-voice-bad-');
    writeFileSync(join(content.FLOWS_DIR, 'voice.yaml'), 'adviser:\n  numbers: ["20000001"]\n  hours:\n    - { days: [mon], from: "08:00", to: "18:00" }\n');
    const check = checkFlows({ flowsDir: content.FLOWS_DIR, localesDir: content.LOCALES_DIR, limits: { gsm7: 182, ucs2: 80 }, spelling: 'standard', root: join(content.FLOWS_DIR, '..') });
    expect(check.flows).toBeUndefined();
    expect(check.problems).toContainEqual(expect.objectContaining({ file: 'flows/voice.yaml', line: 2, severity: 'error', message: expect.stringContaining('E.164') }));
  });

  it('offers no adviser outside the hours', () => {
    const hours = { time_zone: 'Africa/Bamako', hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] };
    // Bamako is UTC all year: 2026-12-02 is a Wednesday.
    expect(advisersAnswer(hours, new Date('2026-12-02T09:30:00Z'))).toBe(true);
    expect(advisersAnswer(hours, new Date('2026-12-02T18:00:00Z'))).toBe(false);
    expect(advisersAnswer(hours, new Date('2026-12-05T10:00:00Z'))).toBe(false);
  });
});

describe('what a caller said, played to operators', () => {
  // A stand-in for the gateway's recording server: AT keeps each recording at the URL its callback gave.
  const audio = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(2000, 7)]);
  let gateway: Server;
  let gatewayUrl: string;
  let staff: Harness;
  beforeAll(async () => {
    gateway = createServer((req, res) => {
      if (req.url === '/rec/description.mp3') res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(audio);
      else res.writeHead(404).end();
    }).listen(0, '127.0.0.1');
    await new Promise((r) => gateway.once('listening', r));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    staff = await startHarness('voice recordings played', { env: { VOICE_RECORDING_HOSTS: '127.0.0.1' } });
    await addUser(staff.ctx.db, 'awa', 'operator', 'a-long-test-password');
  }, 60_000);
  afterAll(async () => {
    await staff.close();
    gateway.close();
  });

  it('keeps which fields were spoken, and plays them through the console, audited; never the address in an export', async () => {
    const call = voiceCaller(staff.base, { sessionId: `ATVId_play${Date.now()}`, callerNumber: '+22376000777' });
    for (const step of [() => call.start(), () => call.press('1'), () => call.press('2'), () => call.press('1'), () => call.press('2'), () => call.press('3#'), () => call.press('2#')]) await step();
    await call.speak('http://10.9.8.7/rec/place.mp3');
    await call.speak(`${gatewayUrl}/rec/description.mp3`);
    await call.press('1');
    const report = await staff.ctx.db.selectFrom('reports').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(report.recorded).toEqual(['place', 'description']);

    const login = await fetch(`${staff.base}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ name: 'awa', password: 'a-long-test-password' }).toString() });
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const page = await (await fetch(`${staff.base}/reports/${report.id}`, { headers: { cookie } })).text();
    expect(page).toContain(`<audio controls preload="none" src="/reports/${report.id}/recording/description"></audio>`);
    expect(page).not.toContain(gatewayUrl);

    const played = await fetch(`${staff.base}/reports/${report.id}/recording/description`, { headers: { cookie } });
    expect(played.status).toBe(200);
    expect(played.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await played.arrayBuffer()).equals(audio)).toBe(true);
    // A private address the deployment did not list is never fetched.
    expect((await fetch(`${staff.base}/reports/${report.id}/recording/place`, { headers: { cookie } })).status).toBe(502);
    // Only a field marked as spoken: never a typed answer that looks like an address.
    expect((await fetch(`${staff.base}/reports/${report.id}/recording/incident`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${staff.base}/reports/${report.id}/recording/description`, { redirect: 'manual' })).status).toBe(303);
    const audited = await staff.ctx.db.selectFrom('audit_log').select(['action', 'target', 'detail']).where('action', '=', 'play_recording').execute();
    expect(audited).toContainEqual(expect.objectContaining({ action: 'play_recording', target: report.ref, detail: 'description' }));

    const csv = await (await fetch(`${staff.base}/reports.csv`, { headers: { cookie } })).text();
    expect(csv).toContain('(message vocal)');
    expect(csv).not.toContain('rec/description.mp3');
  });
});
