/**
 * Languages as data: a third language (qaa, ISO 639's range for local use,
 * in test/fixtures/content-third-language) is a locale folder and one entry
 * of flows/languages.yaml, and gets the same validation, linting (its own
 * spelling, held to GSM-7), review (its own entries, sign-offs and
 * warnings) and golden transcripts as French and Bambara. Nothing in the
 * engine names a language.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { start, step } from '../../src/engine/step.js';
import { checkFlows, type FlowCheck } from '../../src/flows/flow-set.js';
import { parseYamlFile } from '../../src/flows/flow-loader.js';
import type { Problem } from '../../src/flows/problems.js';
import { DEFAULT_LANGUAGES, LANGUAGES_FILE, languagesFileSchema } from '../../src/i18n/languages.js';
import { applyReview, loadReview, reviewSources, withReviewWarnings } from '../../src/i18n/review.js';
import { goldenSuite } from '../support/golden-suite.js';

const FIXTURE = join(process.cwd(), 'test', 'fixtures', 'content-third-language');
const LIMITS = { gsm7: 182, ucs2: 80 };

/** The fixture copied to a folder of its own, with `edit` applied to its files. */
function checkEdited(edit: (root: string) => void = () => {}, spelling = 'standard'): FlowCheck {
  const root = mkdtempSync(join(tmpdir(), 'kalata-qaa-'));
  cpSync(FIXTURE, root, { recursive: true });
  edit(root);
  return checkFlows({ flowsDir: join(root, 'flows'), localesDir: join(root, 'locales'), limits: LIMITS, spelling, root });
}
const rewrite = (root: string, file: string, change: (text: string) => string) => writeFileSync(join(root, file), change(readFileSync(join(root, file), 'utf8')));
const errors = (check: FlowCheck) => check.problems.filter((p) => p.severity === 'error').map((p) => `${p.file}:${p.line}:${p.col} ${p.message}`);

describe('the shipped languages', () => {
  it('are French and Bambara with its phone spelling, as a content without languages.yaml assumes', () => {
    const problems: Problem[] = [];
    const file = parseYamlFile(join(process.cwd(), 'flows', LANGUAGES_FILE), languagesFileSchema, problems);
    expect(problems).toEqual([]);
    expect(file.data).toEqual(DEFAULT_LANGUAGES);
  });
});

describe('a third language, as data', () => {
  it('checks clean, with the three languages in menu order', () => {
    const check = checkEdited();
    expect(errors(check)).toEqual([]);
    expect(check.flows!.languages).toEqual(['fr', 'bm', 'qaa']);
    expect(check.languages.get('qaa')).toMatchObject({ name: 'Qaa', review: true });
  });

  it('lints its screens as written and in its own spelling, and its SMS', () => {
    const check = checkEdited();
    const variants = new Set(check.report.filter((r) => r.lang === 'qaa').map((r) => r.spelling));
    expect(variants).toEqual(new Set(['standard', 'ascii']));
    expect(check.report.some((r) => r.lang === 'fr' && r.spelling === '-')).toBe(true);
    expect(check.smsReport.some((r) => r.lang === 'qaa' && r.spelling === 'ascii' && r.encoding === 'GSM-7')).toBe(true);
  });

  it('speaks it: the engine starts, moves and renders in the language the caller chose', () => {
    const flows = checkEdited().flows!;
    const first = start(flows, { id: 'c', ref: 'KA-7Q4M2XH', lang: 'fr', languageKnown: false }, 0);
    expect(first.screen.text).toContain('3. Qaa');
    const home = step(flows, first.session, '3', 1);
    expect(home.session.lang).toBe('qaa');
    expect(home.screen.text.split('\n')[0]).toBe('Qaa Accueil');
    expect(home.effects).toContainEqual({ type: 'set_language', lang: 'qaa' });
  });

  it('shows the deployment\'s spelling of it: BAMBARA_SPELLING names any language\'s spelling', () => {
    const flows = checkEdited(undefined, 'ascii').flows!;
    expect(flows.texts('qaa', 'sms:report_status.verified')).toBe('Qaa verifie');
    // French has no ascii spelling: it stays as written.
    expect(flows.texts('fr', 'sms:report_status.verified')).toBe('vérifié');
    expect(errors(checkEdited(undefined, 'latin'))).toEqual([expect.stringMatching(/spelling latin \(BAMBARA_SPELLING\) is no spelling of any language/)]);
  });

  it('refuses a text missing in it, at the file that lacks it', () => {
    const check = checkEdited((root) => rewrite(root, 'locales/qaa/main.json', (t) => t.replace(/"help": \{\s*"text": "[^"]*"\s*\},?/, '')));
    expect(errors(check)).toContainEqual(expect.stringMatching(/text "main:help.text" is missing in locales\/qaa\/main.json/));
    expect(check.flows).toBeUndefined();
  });

  it('refuses a variable without its value, and a value for a language it does not have', () => {
    const check = checkEdited((root) => rewrite(root, 'flows/variables.yaml', (t) => t.replace('  qaa: "8080"\n', '  xyz: "8080"\n')));
    expect(errors(check)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^flows\/variables.yaml:2:3 variable hotline has no qaa value$/), expect.stringMatching(/^flows\/variables.yaml:4:8 variable hotline has a value for xyz, which is not a language of languages.yaml \(fr, bm, qaa\)$/)]),
    );
  });

  it('refuses a menu option that sets a language languages.yaml does not list, at its line', () => {
    const check = checkEdited((root) => rewrite(root, 'flows/main.yaml', (t) => t.replace('language: qaa,', 'language: qab,')));
    expect(errors(check)).toContainEqual(expect.stringMatching(/^flows\/main.yaml:15:\d+ language qab is not a language of languages.yaml \(fr, bm, qaa\)$/));
  });

  it('holds a spelling to the encoding it promises: a letter it does not replace is an error', () => {
    const check = checkEdited((root) => rewrite(root, 'locales/qaa/main.json', (t) => t.replace('Qaa Au revoir.', 'Qaa Au revoir, cœur.')));
    expect(errors(check)).toEqual([expect.stringMatching(/screen of "main.bye" \(qaa, ascii spelling\) needs UCS-2/)]);
  });

  it('reports a bad languages.yaml at its line and column', () => {
    const check = checkEdited((root) => rewrite(root, 'flows/languages.yaml', (t) => t.replace('code: qaa', 'code: Qaa-1')));
    expect(errors(check)).toContainEqual(expect.stringMatching(/^flows\/languages.yaml:\d+:\d+ languages.2.code: a language code is 2 or 3 lowercase letters/));
  });

  it('waits for a native speaker\'s review of its texts, as Bambara does', () => {
    const warnings = checkEdited().problems.filter((p) => p.severity === 'warning' && /texts await a native speaker's review/.test(p.message));
    expect(warnings.map((w) => w.file).filter((f) => f.startsWith('locales/qaa/')).sort()).toEqual(['locales/qaa/common.json', 'locales/qaa/main.json', 'locales/qaa/sms.json']);
    expect(warnings.every((w) => !w.file.startsWith('locales/fr/'))).toBe(true);
  });
});

describe('the review of a third language', () => {
  /** A copy of the fixture, and the review's sources and options on it. */
  function reviewCopy() {
    const root = mkdtempSync(join(tmpdir(), 'kalata-qaa-review-'));
    cpSync(FIXTURE, root, { recursive: true });
    const sources = reviewSources({ flowsDir: join(root, 'flows'), localesDir: join(root, 'locales') });
    return { root, sources, options: { flowsDir: sources.flowsDir, localesDir: sources.localesDir, limits: LIMITS, spelling: 'standard', root } };
  }
  const qaa = (c: ReturnType<typeof reviewCopy>) => loadReview(c.sources, c.root).entries.filter((e) => e.language === 'qaa');

  it('has review entries of its own: every text, variable, against the French', () => {
    const c = reviewCopy();
    const review = loadReview(c.sources, c.root);
    expect(review.languages.map((l) => l.code)).toEqual(['bm', 'qaa']);
    const entries = qaa(c);
    expect(entries.filter((e) => e.kind === 'text').map((e) => e.file).filter((f, i, all) => all.indexOf(f) === i).sort()).toEqual(['locales/qaa/common.json', 'locales/qaa/main.json', 'locales/qaa/sms.json']);
    expect(entries.find((e) => e.id === 'main:bye.text')).toMatchObject({ language: 'qaa', french: 'Au revoir.', text: 'Qaa Au revoir.', state: 'draft' });
    expect(entries.find((e) => e.id === 'variables:hotline')).toMatchObject({ french: 'le 8080', text: '8080', state: 'draft' });
    expect(entries.every((e) => e.state === 'draft')).toBe(true);
  });

  it('is reviewed once signed off, and its warning counts it, by its name', () => {
    const c = reviewCopy();
    const done = applyReview(c.sources, c.options, 'qaa', [{ id: 'main:bye.text', signOff: true }], 'awa', new Date('2026-12-01T10:00:00Z'));
    expect(done).toMatchObject({ ok: true, language: 'qaa', signedOff: ['main:bye.text'] });
    expect(qaa(c).find((e) => e.id === 'main:bye.text')).toMatchObject({ state: 'reviewed', by: 'awa', at: '2026-12-01T10:00:00.000Z' });
    expect(JSON.parse(readFileSync(c.sources.ledgerFile, 'utf8'))).toEqual({ version: 2, signoffs: { qaa: { 'main:bye.text': expect.objectContaining({ by: 'awa' }) } } });
    const check = checkFlows(c.options);
    const warnings = withReviewWarnings(check.problems, loadReview(c.sources, c.root)).filter((p) => p.file === 'locales/qaa/main.json' && /texts await/.test(p.message));
    const total = qaa(c).filter((e) => e.file === 'locales/qaa/main.json').length;
    expect(warnings.map((w) => w.message)).toEqual([`${total - 1} of ${total} Qaa texts await a native speaker's review`]);
  });

  it('checks an edit against the French placeholders and the screens, and writes a good one in its own file', () => {
    const c = reviewCopy();
    const before = readFileSync(join(c.root, 'locales/qaa/main.json'), 'utf8');
    expect(applyReview(c.sources, c.options, 'qaa', [{ id: 'main:help.text', text: 'Qaa Appelez {{ref}}.', signOff: true }], 'awa')).toEqual({
      ok: false,
      problems: ['main:help.text : les emplacements {{…}} doivent être ceux du français (il manque {{hotline}} ; inconnu en français : {{ref}})'],
    });
    // The ascii spelling must stay in GSM-7: a letter it does not replace is refused by the flow check.
    const refused = applyReview(c.sources, c.options, 'qaa', [{ id: 'main:bye.text', text: 'Qaa Au revoir, cœur.', signOff: true }], 'awa');
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.problems.join('\n')).toMatch(/main\.bye.*\(qaa, ascii spelling\) needs UCS-2/);
    expect(readFileSync(join(c.root, 'locales/qaa/main.json'), 'utf8')).toBe(before);
    expect(applyReview(c.sources, c.options, 'qaa', [{ id: 'main:help.text', text: 'Qaa Appelez le {{hotline}}.', signOff: true }], 'awa')).toMatchObject({ ok: true, edited: ['main:help.text'] });
    expect(readFileSync(join(c.root, 'locales/qaa/main.json'), 'utf8')).toBe(before.replace('"Qaa Appelez {{hotline}} : ça répond."', '"Qaa Appelez le {{hotline}}."'));
    expect(readFileSync(join(c.root, 'locales/bm/main.json'), 'utf8')).toBe(readFileSync(join(FIXTURE, 'locales/bm/main.json'), 'utf8'));
    expect(errors(checkFlows(c.options))).toEqual([]);
  });
});

// The same golden machinery as the shipped content's, on the fixture: every node in each of the three languages.
goldenSuite({ contentRoot: FIXTURE, goldenDir: join(FIXTURE, 'golden'), minTranscripts: 1 });
