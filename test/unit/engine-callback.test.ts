/**
 * "Ask for a person" in the engine, on the real flows: the home menu's last
 * option asks the shell whether a request from this number is open, then the
 * request is an effect (data) on the end screen, with the choice's value as
 * its topic and nothing the caller typed.
 */
import { describe, expect, it } from '@jest/globals';
import { answerLookup, start, step } from '../../src/engine/step.js';
import type { Lang, StepResult } from '../../src/engine/types.js';
import { loadFlows } from '../../src/flows/flow-set.js';

const flows = loadFlows({ flowsDir: 'flows', localesDir: 'locales', limits: { gsm7: 182, ucs2: 80 }, spelling: 'standard' });

/** Home, then the call-back option: the engine asks whether a request is open. */
function toCheck(lang: Lang = 'fr'): StepResult {
  const home = start(flows, { id: 's', ref: 'KA-7Q4M2XH', lang, languageKnown: true }, 0);
  const r = step(flows, home.session, '6', 1);
  expect(r.lookup).toEqual({ node: 'callback.check', source: 'callback_open', params: {}, lang });
  return r;
}

describe('call-back requests in the engine', () => {
  it('keeps every other home option at its number: the call-back option is the last one', () => {
    const home = flows.nodes.get(flows.home)!;
    expect(home.kind === 'menu' && home.options.map((o) => o.next)).toEqual(['vote.menu', 'report.intro', 'stations.intro', 'main.help', 'main.language', 'callback.check']);
  });

  it.each(['fr', 'bm'] as const)('emits request_callback with the chosen topic once the caller confirms (%s)', (lang) => {
    let r = answerLookup(flows, toCheck(lang).session, { kind: 'not_found' }, 2);
    expect(r.session.node).toBe('callback.topic');
    expect(r.effects).toEqual([]);
    r = step(flows, r.session, '2', 3);
    expect(r.session.node).toBe('callback.confirm');
    expect(r.effects).toEqual([]);
    r = step(flows, r.session, '1', 4);
    expect(r.screen.end).toBe(true);
    expect(r.session).toMatchObject({ node: 'callback.requested', ended: true, outcome: 'completed' });
    expect(r.effects).toEqual([{ type: 'request_callback', ref: 'KA-7Q4M2XH', lang, topic: 'report' }]);
  });

  it('says plainly what is kept and promises no time, and says so in both languages', () => {
    const r = step(flows, answerLookup(flows, toCheck().session, { kind: 'not_found' }, 2).session, '1', 3);
    expect(r.screen.text).toMatch(/gardé chiffré 30 jours au plus/);
    expect(r.screen.text).toMatch(/Ni l'heure ni le rappel ne sont garantis/);
    expect(r.screen.text).not.toMatch(/confidentiel|garanti que|dans l'heure|aujourd'hui|\d+ ?(h|min)\b/);
  });

  it('files nothing when a request is already open, and says one waits', () => {
    const r = answerLookup(flows, toCheck().session, { kind: 'found', values: {} }, 2);
    expect(r.session).toMatchObject({ node: 'callback.waiting', ended: true });
    expect(r.screen.text).toMatch(/attend déjà/);
    expect(r.effects).toEqual([]);
  });

  it('files nothing when the caller says no, or goes back', () => {
    const topic = answerLookup(flows, toCheck().session, { kind: 'not_found' }, 2);
    const confirm = step(flows, topic.session, '3', 3);
    const no = step(flows, confirm.session, '2', 4);
    expect(no.session.node).toBe('callback.cancelled');
    expect(no.effects).toEqual([]);
    // Back from the topic goes home (the check is never on the back stack).
    expect(step(flows, topic.session, '0', 4).session.node).toBe(flows.home);
  });

  it('ends the call with the apology when the shell cannot say (database down): nothing promised', () => {
    const r = answerLookup(flows, toCheck().session, { kind: 'failed' }, 2);
    expect(r.session).toMatchObject({ ended: true, outcome: 'error' });
    expect(r.effects).toEqual([]);
  });
});
