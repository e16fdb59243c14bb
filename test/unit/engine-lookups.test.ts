/** The engine's lookups on the real stations flow: what a failed lookup leaves behind, and what a pick does with its items. */
import { describe, expect, it } from '@jest/globals';
import { answerLookup, MAX_PICKED, start, step } from '../../src/engine/step.js';
import type { StepResult } from '../../src/engine/types.js';
import { loadFlows } from '../../src/flows/flow-set.js';

const flows = loadFlows({ flowsDir: 'flows', localesDir: 'locales', limits: { gsm7: 182, ucs2: 80 }, spelling: 'standard' });
const NINA = 'FICTIF000000002';

/** Home, Où voter, by NINA: the shell says a voters list is imported, and the prompt shows. */
function toNinaPrompt(): StepResult {
  let r = start(flows, { id: 's', ref: 'KA-7Q4M2XH', lang: 'fr', languageKnown: true }, 0);
  for (const input of ['3', '1']) r = step(flows, r.session, input, 1);
  expect(r.lookup).toEqual({ node: 'stations.voter_list', source: 'voter_list', params: {}, lang: 'fr' });
  r = answerLookup(flows, r.session, { kind: 'found', values: {} }, 1);
  expect(r.session.node).toBe('stations.nina');
  return r;
}

describe('lookups in the engine', () => {
  it('without a voters list, never asks for the NINA: says the search is not available here', () => {
    let r = start(flows, { id: 's', ref: 'KA-7Q4M2XH', lang: 'fr', languageKnown: true }, 0);
    for (const input of ['3', '1']) r = step(flows, r.session, input, 1);
    const none = answerLookup(flows, r.session, { kind: 'not_found' }, 2);
    expect(none.session.node).toBe('stations.no_voter_list');
    expect(none.screen.text).toMatch(/^La recherche par NINA n'est pas disponible ici\. Cela ne dit rien de votre inscription/);
    expect(none.screen.text).not.toMatch(/pas inscrit|pas sur la liste/);
  });

  it('asks the shell for the NINA lookup, with the number only in the request', () => {
    const asked = step(flows, toNinaPrompt().session, NINA, 2);
    expect(asked.lookup).toEqual({ node: 'stations.nina_lookup', source: 'station_by_nina', params: { nina: NINA }, lang: 'fr' });
  });

  it.each(['failed', 'not_found'] as const)('forgets the NINA even when the lookup is %s', (kind) => {
    const asked = step(flows, toNinaPrompt().session, NINA, 2);
    const answered = answerLookup(flows, asked.session, { kind }, 3);
    expect(JSON.stringify(answered.session)).not.toContain(NINA);
    if (kind === 'failed') expect(answered.session).toMatchObject({ ended: true, outcome: 'error' });
    else expect(answered.session.node).toBe('stations.nina_unknown');
  });

  it('shows at most 97 items of a list (98 and 99 are navigation)', () => {
    let r = start(flows, { id: 's', ref: 'KA-7Q4M2XH', lang: 'fr', languageKnown: true }, 0);
    for (const input of ['3', '2']) r = step(flows, r.session, input, 1);
    expect(r.lookup?.source).toBe('regions');
    const items = Array.from({ length: 120 }, (_, i) => ({ value: `r${i}`, label: `Région ${i + 1}` }));
    const shown = answerLookup(flows, r.session, { kind: 'items', items }, 2);
    expect(shown.session.picked?.items).toHaveLength(MAX_PICKED);
    expect(step(flows, shown.session, '97', 3).session.answers.region).toBe('r96');
  });

  it('goes to the empty node when a list is empty, and back from there to the screen before', () => {
    let r = start(flows, { id: 's', ref: 'KA-7Q4M2XH', lang: 'fr', languageKnown: true }, 0);
    for (const input of ['3', '2']) r = step(flows, r.session, input, 1);
    const empty = answerLookup(flows, r.session, { kind: 'items', items: [] }, 2);
    expect(empty.session.node).toBe('stations.no_data');
    expect(step(flows, empty.session, '0', 3).session.node).toBe('stations.intro');
  });
});
