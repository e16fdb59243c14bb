/**
 * Engine micro-benchmarks (no I/O): steps per second of the pure engine on the
 * real flows, and what a flow's size costs, on generated flows of 10 and
 * 1,000 nodes: validation time, and the cost of one step (which must not
 * grow with the flow: nodes are looked up in a map).
 *
 *   node --import tsx bench/engine.ts [--smoke]
 *
 * Prints a table, then one JSON line (read by bench/run.ts).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, step } from '../src/engine/step.js';
import type { CompiledFlows } from '../src/engine/types.js';
import { checkFlows, loadFlows } from '../src/flows/flow-set.js';

const limits = { gsm7: 182, ucs2: 80 };

/** A valid flow set whose `big` flow is a chain of `size` menus. */
function generateFlows(size: number): { flowsDir: string; localesDir: string } {
  const dir = mkdtempSync(join(tmpdir(), `kalata-bench-flows-${size}-`));
  const flowsDir = join(dir, 'flows');
  const localesDir = join(dir, 'locales');
  mkdirSync(flowsDir);
  const main = [
    'id: main',
    'start: language',
    'home: home',
    'language: language',
    'nodes:',
    '  language:',
    '    type: menu',
    '    text: language',
    '    options:',
    '      - { label: fr, language: fr, next: home }',
    '      - { label: bm, language: bm, next: home }',
    '  home:',
    '    type: menu',
    '    text: home',
    '    options:',
    '      - { label: go, next: big.n0 }',
  ].join('\n');
  writeFileSync(join(flowsDir, 'main.yaml'), `${main}\n`);
  const big = ['id: big', 'start: n0', 'nodes:'];
  const texts: Record<string, string> = {};
  for (let i = 0; i < size; i++) {
    const next = i + 1 < size ? `n${i + 1}` : 'done';
    big.push(`  n${i}:`, '    type: menu', `    text: t${i}`, '    options:', `      - { label: next, next: ${next} }`, `      - { label: other, next: ${i > 0 ? `n${i - 1}` : 'done'} }`);
    texts[`t${i}`] = `Écran ${i}: une information sur le vote, assez longue pour occuper une bonne partie de l'écran.`;
  }
  big.push('  done:', '    type: end', '    text: done');
  texts.next = 'Suivant';
  texts.other = 'Précédent';
  texts.done = 'Merci.';
  writeFileSync(join(flowsDir, 'big.yaml'), `${big.join('\n')}\n`);
  const common = {
    nav: { more: '98. Suite', back_home: '0. Retour 00. Accueil', continue: 'Continuer', no_more: 'Pas de page suivante.' },
    confirm: { yes: 'Oui', no: 'Non' },
    error: { invalid: 'Choix non valide.', too_many: "Trop d'essais.", unavailable: 'Indisponible.', session_over: 'Appel terminé.', rate_limited: 'Trop de demandes.' },
    resume: { prompt: 'Appel coupé.', continue: 'Continuer', restart: 'Recommencer' },
  };
  const sms = {
    help: 'Aide.', status: '{{ref}}: {{status}}', status_unknown: '{{ref}} inconnu', stop_ack: 'Stop.', start_ack: 'Start.', fallback: 'Non compris.',
    station_help: 'BUREAU et votre NINA.', station_found: '{{centre}}, bureau {{station}}.', station_unknown: 'Inconnu.', station_no_list: 'Indisponible.', station_limit: 'Plus tard.',
    report_status: { new: 'reçu', verifying: 'en cours', verified: 'vérifié', dismissed: 'classé', escalated: 'transmis' },
  };
  for (const lang of ['fr', 'bm']) {
    mkdirSync(join(localesDir, lang), { recursive: true });
    writeFileSync(join(localesDir, lang, 'common.json'), JSON.stringify(common));
    writeFileSync(join(localesDir, lang, 'sms.json'), JSON.stringify(sms));
    writeFileSync(join(localesDir, lang, 'main.json'), JSON.stringify({ language: 'Langue / Kan:', fr: 'Français', bm: 'Bamanankan', home: 'Accueil', go: 'Commencer' }));
    writeFileSync(join(localesDir, lang, 'big.json'), JSON.stringify(texts));
  }
  return { flowsDir, localesDir };
}

function time<T>(fn: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t };
}

/** Microseconds per step, walking the big flow forward from its start. */
function stepCost(flows: CompiledFlows, steps: number): number {
  let result = start(flows, { id: 'b', ref: 'KA-0000000', lang: 'fr', languageKnown: true, flow: 'big' }, 0);
  const t = performance.now();
  for (let i = 0; i < steps; i++) {
    result = step(flows, result.session, i % 3 === 2 ? '2' : '1', i);
    if (result.session.ended) result = start(flows, { id: 'b', ref: 'KA-0000000', lang: 'fr', languageKnown: true, flow: 'big' }, 0);
  }
  return ((performance.now() - t) * 1000) / steps;
}

const smoke = process.argv.includes('--smoke');
const scale = smoke ? 0.05 : 1;
const real = loadFlows({ flowsDir: 'flows', localesDir: 'locales', limits, spelling: 'standard' });
const inputs = ['1', '1', '3', '98', '0', '0', '2', '1', '1', '1', '5', 'Kati', 'Des billets', '1'];
const warm = time(() => {
  let n = 0;
  for (let r = 0; r < 2000 * scale; r++) {
    let result = start(real, { id: 'w', ref: 'KA-0000000', lang: r % 2 ? 'bm' : 'fr', languageKnown: false }, 0);
    for (const input of inputs) {
      if (result.session.ended) break;
      result = step(real, result.session, input, 0);
      n += 1;
    }
  }
  return n;
});
const stepsPerSecond = Math.round(warm.value / (warm.ms / 1000));

const small = generateFlows(10);
const large = generateFlows(1000);
const check = (d: { flowsDir: string; localesDir: string }) => checkFlows({ ...d, limits, spelling: 'standard' });
check(small); // warm-up
const vSmall = time(() => check(small));
const vLarge = time(() => check(large));
if (!vSmall.value.flows || !vLarge.value.flows) throw new Error('generated flows did not validate');
stepCost(vSmall.value.flows, 20_000 * scale); // warm-up
stepCost(vLarge.value.flows, 20_000 * scale);
// Rounds interleaved, median kept: one slow moment of the machine must not decide the ratio.
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rounds = { small: [] as number[], large: [] as number[] };
for (let r = 0; r < 5; r++) {
  rounds.small.push(stepCost(vSmall.value.flows, 20_000 * scale));
  rounds.large.push(stepCost(vLarge.value.flows, 20_000 * scale));
}
const sSmall = median(rounds.small);
const sLarge = median(rounds.large);

const rows = [
  ['engine steps/s (real flows, fr and bm)', `${stepsPerSecond}`],
  ['validation, 10-node flow', `${vSmall.ms.toFixed(1)} ms`],
  ['validation, 1,000-node flow', `${vLarge.ms.toFixed(1)} ms (${(vLarge.ms / vSmall.ms).toFixed(1)}x)`],
  ['step, 10-node flow', `${sSmall.toFixed(2)} us`],
  ['step, 1,000-node flow', `${sLarge.toFixed(2)} us (${(sLarge / sSmall).toFixed(2)}x the small flow)`],
];
for (const [label, value] of rows) console.log(`${label!.padEnd(42)} ${value}`);
console.log(
  JSON.stringify({
    stepsPerSecond,
    validateSmallMs: Number(vSmall.ms.toFixed(1)),
    validateLargeMs: Number(vLarge.ms.toFixed(1)),
    stepSmallUs: Number(sSmall.toFixed(2)),
    stepLargeUs: Number(sLarge.toFixed(2)),
    stepCostRatio: Number((sLarge / sSmall).toFixed(2)),
  }),
);
