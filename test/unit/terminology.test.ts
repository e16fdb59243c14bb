/**
 * Terminology as data (flows/terminology.yaml, issue 13 §4): the check fires
 * on every avoided form in a locale text, a variable and an SMS keyword, in
 * both Bambara spellings, at the key that holds it; never on the term to use;
 * a malformed file is an error with its position; and the shipped flows and
 * locales use the terms (but for the keys listed below, which wait for the
 * lead's edits).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkFlows, type FlowCheck } from '../../src/flows/flow-set.js';
import { loadFlowFiles } from '../../src/flows/flow-loader.js';
import { findTermUses, type TermUse } from '../../src/flows/terminology.js';
import { loadLocales } from '../../src/i18n/locales.js';
import { DEFAULT_LANGUAGES, languageSet } from '../../src/i18n/languages.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const VALID = join(HERE, '..', 'fixtures', 'flows', 'valid');

const TERMS = `
fr:
  status: reviewed
  terms:
    report_reference:
      use: référence
      avoid: [numéro de signalement]
      note: the reference is not a number to call
bm:
  status: machine-drafted
  terms:
    phone_number:
      use: telefɔni nimɔrɔ
      avoid: [nimɔrɔ]
      note: nimɔrɔ alone could be any number
    nina:
      use: NINA
      avoid: [NINA nimɔrɔ]
      note: the acronym alone
    voter_card:
      use: kalatasɛbɛn
      avoid: ["/(?<!nina\\\\s)karati/"]
      note: one word for the voter card
    address:
      use: i
      avoid: [aw]
      note: singular
`;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Tree {
  root: string;
  write(path: string, content: string): void;
  /** sets one Bambara text of main.json (help.text) */
  setBambaraHelp(text: string): void;
  check(): FlowCheck;
}

/** A copy of the valid fixture, with a terminology file (none when null). */
function tree(terms: string | null = TERMS): Tree {
  const root = mkdtempSync(join(tmpdir(), 'kalata-terms-'));
  dirs.push(root);
  cpSync(VALID, root, { recursive: true });
  const write = (path: string, content: string) => writeFileSync(join(root, path), content);
  if (terms !== null) write('flows/terminology.yaml', terms);
  return {
    root,
    write,
    setBambaraHelp(text) {
      const path = join(root, 'locales/bm/main.json');
      const data = JSON.parse(readFileSync(path, 'utf8')) as { help: { text: string } };
      data.help.text = text;
      writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
    },
    check: () => checkFlows({ flowsDir: join(root, 'flows'), localesDir: join(root, 'locales'), limits: { gsm7: 182, ucs2: 80 }, spelling: 'standard', root }),
  };
}

function termErrors(check: FlowCheck) {
  return check.problems.filter((p) => p.message.startsWith('terminology:'));
}

/** Line and column (1-based) of the first occurrence of `needle` in a file of the tree. */
function positionIn(t: Tree, path: string, needle: string): { line: number; col: number } {
  const content = readFileSync(join(t.root, path), 'utf8');
  const offset = content.indexOf(needle);
  if (offset < 0) throw new Error(`${needle} not in ${path}`);
  const before = content.slice(0, offset);
  return { line: before.split('\n').length, col: offset - before.lastIndexOf('\n') };
}

describe('terminology check', () => {
  it('fires on an avoided form in a Bambara text, at the key, and keeps the flows from going live', () => {
    const t = tree();
    t.setBambaraHelp('I ka nimɔrɔ sɛbɛn.');
    const check = t.check();
    const errors = termErrors(check);
    expect(errors).toEqual([
      {
        file: 'locales/bm/main.json',
        ...positionIn(t, 'locales/bm/main.json', '"text": "I ka nimɔrɔ'),
        severity: 'error',
        message: expect.stringContaining('bm text "main:help.text" uses "nimɔrɔ"; for phone number write "telefɔni nimɔrɔ"'),
      },
    ]);
    expect(check.flows).toBeUndefined();
  });

  it('fires on the GSM-7 spelling of an avoided form, whatever the case', () => {
    for (const text of ['I ka nimòrò sɛbɛn.', 'NIMƆRƆ sɛbɛn.', 'Nimòrò sèbèn.']) {
      const t = tree();
      t.setBambaraHelp(text);
      const errors = termErrors(t.check());
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toMatch(/main:help\.text" uses "nim[ɔò]r[ɔò]"/i);
    }
  });

  it('does not fire on the term to use, in either spelling, nor inside a longer word', () => {
    for (const text of ['I ka telefɔni nimɔrɔ sɛbɛn.', 'I ka telefòni nimòrò sèbèn.', 'I ka NINA sɛbɛn.', 'Kɔlɔsilikɛlaw bɛ yen.', 'NINA karati ta.', 'I ka {{hotline}} wele.']) {
      const t = tree();
      t.setBambaraHelp(text);
      expect(termErrors(t.check())).toEqual([]);
    }
  });

  it('reports the longer of two overlapping avoided forms once', () => {
    const t = tree();
    t.setBambaraHelp('I ka NINA nimɔrɔ sɛbɛn.');
    const errors = termErrors(t.check());
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('uses "NINA nimɔrɔ"; for nina write "NINA"')]);
  });

  it('matches a form written as a regular expression, as a whole word', () => {
    const t = tree();
    t.setBambaraHelp('I ka karati ta.');
    expect(termErrors(t.check()).map((e) => e.message)).toEqual([expect.stringContaining('uses "karati"; for voter card write "kalatasɛbɛn"')]);
  });

  it('fires on a variable, in its own language, at its value', () => {
    const t = tree();
    t.write('flows/variables.yaml', 'hotline:\n  fr: "le 8080, numéro de signalement"\n  bm: "8080 nimòrò"\n');
    const errors = termErrors(t.check());
    expect(errors).toEqual([
      { file: 'flows/variables.yaml', line: 2, col: 7, severity: 'error', message: expect.stringContaining('fr variable hotline uses "numéro de signalement"; for report reference write "référence"') },
      { file: 'flows/variables.yaml', line: 3, col: 7, severity: 'error', message: expect.stringContaining('bm variable hotline uses "nimòrò" (in the GSM-7 spelling); for phone number') },
    ]);
  });

  it('fires on an SMS keyword, in both spellings, at the keyword', () => {
    const t = tree();
    t.write('flows/keywords.yaml', 'help: [AIDE, NIMƆRƆ]\nstatus: [STATUT]\nstop: [STOP]\nstart: [START]\nstation: [BUREAU, AW, NIMÒRÒ]\n');
    const errors = termErrors(t.check());
    expect(errors.map((e) => `${e.file}:${e.line}:${e.col} ${e.message.split(';')[0]}`)).toEqual([
      'flows/keywords.yaml:1:14 terminology: bm keyword help[1] uses "NIMƆRƆ"',
      'flows/keywords.yaml:5:19 terminology: bm keyword station[1] uses "AW"',
      'flows/keywords.yaml:5:23 terminology: bm keyword station[2] uses "NIMÒRÒ" (in the GSM-7 spelling)',
    ]);
  });

  it('checks nothing when there is no terminology file', () => {
    const t = tree(null);
    t.setBambaraHelp('I ka nimɔrɔ sɛbɛn.');
    const check = t.check();
    expect(check.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(check.flows).toBeDefined();
  });

  it('reports a malformed terminology file as an error, with its position', () => {
    const cases: { terms: string; at: { line: number; col: number }; message: RegExp }[] = [
      { terms: 'bm:\n  status: machine-drafted\n  terms: [\n', at: { line: 4, col: 1 }, message: /^YAML: / },
      { terms: 'bm:\n  status: machine-drafted\n  terms:\n    phone_number:\n      avoid: [nimɔrɔ]\n      note: why\n', at: { line: 5, col: 7 }, message: /use/ },
      { terms: 'bm:\n  status: machine-drafted\n  terms:\n    phone_number:\n      use: telefɔni nimɔrɔ\n      avoid: ["/nimɔrɔ(/"]\n      note: why\n', at: { line: 6, col: 15 }, message: /not a valid regular expression/ },
      { terms: 'bm:\n  status: unsure\n  terms: {}\n', at: { line: 2, col: 11 }, message: /status/ },
      { terms: 'bm:\n  status: reviewed\n  terms: {}\n  extra: 1\n', at: { line: 4, col: 10 }, message: /extra/ },
    ];
    for (const { terms, at, message } of cases) {
      const check = tree(terms).check();
      const errors = check.problems.filter((p) => p.file === 'flows/terminology.yaml');
      expect(errors).toEqual([{ file: 'flows/terminology.yaml', ...at, severity: 'error', message: expect.stringMatching(message) }]);
      expect(check.flows).toBeUndefined();
    }
  });
});

describe('the shipped flows and locales', () => {
  const files = loadFlowFiles(join(REPO, 'flows'), REPO);
  const uses = (): TermUse[] => {
    expect(files.terminology?.data).toBeDefined();
    return findTermUses({ terminology: files.terminology!.data!, locales: loadLocales(join(REPO, 'locales'), REPO), languages: languageSet(DEFAULT_LANGUAGES), variables: files.variables, keywords: files.keywords });
  };
  const keyOf = (u: TermUse) => `${u.lang} ${u.key}`;

  it('mark the Bambara terms as machine-drafted until a native speaker confirms them', () => {
    expect(files.terminology?.data?.bm?.status).toBe('machine-drafted');
  });

  it('use the terms everywhere', () => {
    expect(uses().map((u) => `${u.file}:${u.line}:${u.col} ${keyOf(u)} uses "${u.found}" (${u.concept})`)).toEqual([]);
  });
});
