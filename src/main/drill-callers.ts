/**
 * The drills' callers (`npm run drill`, and `npm run drill -- --ha`): bursts
 * of French callers filing a vote-buying report with a discreet SMS, each
 * request checked for a proper CON/END, each call's ending counted.
 */

// nock 15 (which answers the SMS gateway in the outage drill) breaks the POSTs
// that global fetch lets through to real servers: the callers use the fetch
// from before nock (this module is loaded before nock is).
const realFetch = globalThis.fetch;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const REF = /KA-[0-9A-Z]{7}/;
/** A French caller filing a vote-buying report with a discreet SMS (language, report, SMS, type, region, place, description, send). */
export const REPORT_INPUTS = ['1', '2', '1', '1', '1', '5', 'Marché de Kati', 'Des billets distribués', '1'];

/** How the callers of one phase ended. */
export interface PhaseFigures {
  phase: string;
  callers: number;
  /** ended with "Merci. Votre référence: KA-…" */
  references: number;
  /** ended with the apology ("Service indisponible…"): what a caller gets when Redis is away or too slow */
  apologies: number;
  /** ended any other way (another END, or still a menu after the last input): the drill no longer files a report */
  otherEndings: number;
  /** stopped on a request that got no CON/END */
  unanswered: number;
}

export interface Tally {
  requests: number;
  answered: number;
  improper: string[];
  strangeEndings: string[];
  refs: Set<string>;
  referencesWhileCut: number;
  /** PostgreSQL is cut right now */
  cut: boolean;
  /** the END a caller gets when something failed (French) */
  apology: string;
  /** when each apology was answered (performance.now()) */
  apologyTimes: number[];
}

export function newTally(apology: string): Tally {
  return { requests: 0, answered: 0, improper: [], strangeEndings: [], refs: new Set(), referencesWhileCut: 0, cut: false, apology, apologyTimes: [] };
}

export function newPhase(phase: string, callers: number): PhaseFigures {
  return { phase, callers, references: 0, apologies: 0, otherEndings: 0, unanswered: 0 };
}

/** One caller filing a report, each request to the next of `bases` (a load balancer's round robin); stops at the first answer that is not CON. */
async function caller(bases: readonly string[], id: string, phone: string, tally: Tally, phase: PhaseFigures): Promise<void> {
  const typed: string[] = [];
  let body = '';
  for (let i = 0; i <= REPORT_INPUTS.length; i++) {
    if (i > 0) typed.push(REPORT_INPUTS[i - 1]!);
    tally.requests += 1;
    let status = 0;
    try {
      const res = await realFetch(`${bases[i % bases.length]}/ussd/africastalking`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ sessionId: id, phoneNumber: phone, serviceCode: '*384*123#', text: typed.join('*') }).toString(),
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      body = await res.text();
    } catch (err) {
      body = `(${(err as Error).name})`;
    }
    const proper = status === 200 && /^(CON|END) /.test(body);
    if (proper) tally.answered += 1;
    else if (tally.improper.length < 5) tally.improper.push(`${status} ${body.slice(0, 60)}`);
    if (!proper) {
      phase.unanswered += 1;
      return;
    }
    if (body.startsWith('END')) break;
    await sleep(20);
  }
  const ref = REF.exec(body)?.[0];
  if (ref && body.startsWith('END Merci')) {
    tally.refs.add(ref);
    phase.references += 1;
    if (tally.cut) tally.referencesWhileCut += 1;
  } else if (body === `END ${tally.apology}`) {
    phase.apologies += 1;
    tally.apologyTimes.push(performance.now());
  } else {
    phase.otherEndings += 1;
    if (tally.strangeEndings.length < 5) tally.strangeEndings.push(`${phase.phase}, after ${typed.length} inputs: ${body.slice(0, 80)}`);
  }
}

/** The phase's callers, `spacingMs` apart (numbers +2237<digit>1…), and `during` beside them. */
export async function burst(bases: readonly string[], phase: PhaseFigures, digit: number, tally: Tally, during?: () => Promise<void>, spacingMs = 15): Promise<void> {
  const calls = Array.from({ length: phase.callers }, (_, i) =>
    sleep(i * spacingMs).then(() => caller(bases, `drill-${phase.phase}-${i}`, `+2237${digit}${String(100_000 + i).padStart(6, '0')}`, tally, phase)),
  );
  await Promise.all([...calls, during?.() ?? Promise.resolve()]);
}

/** Mid-burst: once the phase's callers have sent three requests each on average, every call is under way. */
export async function midBurst(phase: PhaseFigures, tally: Tally): Promise<void> {
  const until = tally.requests + 3 * phase.callers;
  const ended = () => phase.references + phase.apologies + phase.otherEndings + phase.unanswered === phase.callers;
  while (tally.requests < until && !ended()) await sleep(5);
}

/** The drill's own reads of Redis: a command timed out on a busy machine is asked again (the hotline's are not). */
export async function patiently<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= 20) throw err;
      await sleep(250);
    }
  }
}
