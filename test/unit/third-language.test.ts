/**
 * Languages as data: a third language (qaa, ISO 639's range for local use,
 * in test/fixtures/content-third-language) is a locale folder and one entry
 * of flows/languages.yaml, and gets the same validation, linting (its own
 * spelling, held to GSM-7), review warnings and golden transcripts as French
 * and Bambara. Nothing in the engine names a language.
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

// The same golden machinery as the shipped content's, on the fixture: every node in each of the three languages.
goldenSuite({ contentRoot: FIXTURE, goldenDir: join(FIXTURE, 'golden'), minTranscripts: 1 });
