/**
 * The shell's side of the engine's lookups: a step that needs data returns a
 * request instead of a screen; the answer is looked up here (I/O) and handed
 * back to the engine, until the step has its screen. Shared by the USSD
 * runtime and the simulators.
 */
import { answerLookup } from '../engine/step.js';
import type { CompiledFlows, LookupAnswer, LookupRequest, StepResult } from '../engine/types.js';

export type Lookup = (request: LookupRequest) => Promise<LookupAnswer>;

/** Lookups one step may chain (a lookup leading to a list, and so on). */
const MAX_LOOKUPS_PER_STEP = 4;

/** Answers the step's lookups; effects and events of every part are kept, in order. A failed lookup ends the call with the apology. */
export async function settle(flows: CompiledFlows, first: StepResult, lookup: Lookup | undefined, now: number): Promise<StepResult> {
  // Nearly every step needs no data: no copies for it.
  if (!first.lookup) return first;
  let result = first;
  const effects = [...first.effects];
  const events = [...first.events];
  for (let n = 0; result.lookup; n++) {
    const request = result.lookup;
    const answer: LookupAnswer =
      lookup && n < MAX_LOOKUPS_PER_STEP ? await lookup(request).catch((): LookupAnswer => ({ kind: 'failed' })) : { kind: 'failed' };
    result = answerLookup(flows, result.session, answer, now);
    effects.push(...result.effects);
    events.push(...result.events);
  }
  return { ...result, effects, events };
}
