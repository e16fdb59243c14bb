/**
 * What the hotline must never tell a caller (shared/reference/mali-elections.md,
 * "What the hotline must NOT assert"), checked on every screen of every node
 * in French and both Bambara spellings, every SMS text, and every
 * admin-set variable: the items a pattern can catch, and any unqualified
 * promise of confidentiality or anonymity (admins can reveal a reporter's
 * number, and calls are recorded).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { renderPages } from '../../src/engine/render.js';
import type { CompiledFlows, Lang } from '../../src/engine/types.js';
import { checkFlows } from '../../src/flows/flow-set.js';
import { GOLDEN_REF } from '../support/transcript.js';

const MONTHS = 'janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre';

/** Each forbidden claim, with the reference's item number, as patterns over the rendered text. */
const FORBIDDEN: { item: string; pattern: RegExp }[] = [
  { item: '1. an election date', pattern: new RegExp(`\\b\\d{1,2}(er)? (${MONTHS})\\b|\\b\\d{1,2}/\\d{1,2}/\\d{2,4}\\b|\\b20[2-9]\\d\\b`, 'i') },
  { item: '5. indelible ink', pattern: /\bencre\b|ind[ée]l[ée]bile|\bmilan\b/i },
  { item: '6. voting at any station', pattern: /n'importe quel bureau|tout bureau de vote|dans le bureau de votre choix|biro o biro/i },
  { item: '7. old lookup numbers and sites', pattern: /36\s?666|36\s?777|80\s?03\s?66\s?66|dge-mali|aige-mali\.org/i },
  { item: '8. an AIGE hotline number', pattern: /AIGE[^.]{0,30}\b\d{4,}/ },
  { item: '9. who may vote by proxy', pattern: /procuration[^.]{0,40}\b(peut|peuvent|autoris)/i },
  { item: '10. a clean criminal record', pattern: /casier judiciaire/i },
  { item: '4. a single ballot', pattern: /un seul bulletin|bilten kelen/i },
  { item: 'an unqualified promise of confidentiality or anonymity', pattern: /confidentiel|anonym|personne ne (verra|saura|conna[iî]tra)|tɛ jira mɔgɔ si la|tè jira mògò si la/i },
];

const LANGS: readonly Lang[] = ['fr', 'bm'];

function compiled(spelling: 'standard' | 'gsm7'): CompiledFlows {
  const check = checkFlows({ flowsDir: 'flows', localesDir: 'locales', limits: { gsm7: 182, ucs2: 80 }, spelling });
  if (!check.flows) throw new Error('the flows do not validate');
  return check.flows;
}

/** Every screen a caller can see, page by page, with the answers a report would have. */
function everyScreen(flows: CompiledFlows): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  for (const lang of LANGS) {
    for (const node of flows.nodes.values()) {
      for (const trail of [[], [flows.home]]) {
        const session = { lang, ref: GOLDEN_REF, answers: { incident: 'vote_buying', region: 'segou', place: 'Kati', description: 'Des billets' }, trail, invalid: 0, page: 0 };
        for (const [i, text] of renderPages(flows, node, session).entries()) out.push({ where: `${lang} ${node.id} page ${i + 1}`, text });
      }
    }
  }
  return out;
}

/** Every text of the locales (SMS included), rendered with the variables. */
function everyText(flows: CompiledFlows): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  for (const lang of LANGS) {
    for (const file of readdirSync(`locales/${lang}`).filter((f) => f.endsWith('.json'))) {
      const ns = file.replace(/\.json$/, '');
      const walk = (prefix: string, value: unknown) => {
        if (typeof value === 'string') out.push({ where: `${lang} ${ns}:${prefix}`, text: flows.texts(lang, `${ns}:${prefix}`, { ref: GOLDEN_REF, status: 'reçu' }) });
        else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) walk(prefix ? `${prefix}.${k}` : k, v);
      };
      walk('', JSON.parse(readFileSync(`locales/${lang}/${file}`, 'utf8')));
    }
  }
  return out;
}

describe.each(['standard', 'gsm7'] as const)('what callers are told (Bambara spelling %s)', (spelling) => {
  const flows = compiled(spelling);
  const screens = everyScreen(flows);
  const texts = everyText(flows);

  it('walks every node, in both languages, and every text', () => {
    expect(new Set(screens.map((s) => s.where.split(' ').slice(0, 2).join(' '))).size).toBe(flows.nodes.size * LANGS.length);
    expect(texts.length).toBeGreaterThan(100);
  });

  it.each(FORBIDDEN.map((f) => [f.item, f.pattern] as const))('never asserts: %s', (_item, pattern) => {
    const found = [...screens, ...texts].filter((s) => pattern.test(s.text)).map((s) => `${s.where}: ${s.text}`);
    expect(found).toEqual([]);
  });

  it('the patterns do catch what they are for', () => {
    const claims = [
      'Le vote aura lieu le 12 juillet.',
      "Votez dans n'importe quel bureau avec votre carte.",
      'Envoyez votre NINA au 36666.',
      'Votre numéro reste confidentiel.',
      'Un casier judiciaire vierge est exigé.',
      "L'encre indélébile prouve que vous avez voté.",
    ];
    for (const claim of claims) expect([claim, FORBIDDEN.some((f) => f.pattern.test(claim))]).toEqual([claim, true]);
  });
});
