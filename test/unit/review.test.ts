/**
 * The review of the translated strings (src/i18n/review.ts, review-csv.ts),
 * on a temporary copy of the `valid` fixture (French and Bambara, no
 * languages.yaml) with a keywords file: states, hashes, a string changed
 * after its sign-off, the legacy `$review` arrays, edits written in place,
 * edits refused with nothing written, the CSV round trip, the version-1
 * ledger read as Bambara's; then, on the third-language fixture, a second
 * language under review (qaa) that never touches Bambara's.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { FlowSetOptions } from '../../src/flows/flow-set.js';
import {
  applyReview,
  formatLedger,
  LedgerError,
  loadReview,
  locateJsonString,
  readLedger,
  reviewCounts,
  reviewHash,
  reviewSources,
  setJsonString,
  withReviewWarnings,
  type ReviewEntry,
  type ReviewSources,
} from '../../src/i18n/review.js';
import { importReviewCsv, parseReviewCsv, reviewCsv, reviewCsvFileName } from '../../src/i18n/review-csv.js';
import { problemMessage } from '../../src/web/console/labels.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'flows', 'valid');
const THIRD = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'content-third-language');
const KEYWORDS = `# SMS keywords\nhelp: [AIDE, DƐMƐ]\nstatus: [STATUT]\nstop: [STOP]\nstart: [START]\nstation: [BUREAU, BIRO]\n`;
const AT = new Date('2026-12-01T10:00:00.000Z');

let root: string;
let sources: ReviewSources;
let options: FlowSetOptions;

const review = () => loadReview(sources, root);
const entries = () => review().entries.filter((e) => e.language === 'bm');
const entry = (id: string): ReviewEntry => {
  const found = entries().find((e) => e.id === id);
  if (!found) throw new Error(`no ${id}`);
  return found;
};
const read = (path: string) => readFileSync(join(root, path), 'utf8');
/** Every file of the copy, to show that a refused change wrote nothing. */
const snapshot = () => ['locales/bm/main.json', 'locales/bm/common.json', 'flows/variables.yaml', 'flows/keywords.yaml'].map(read).join('\0') + (existsSync(sources.ledgerFile) ? readFileSync(sources.ledgerFile, 'utf8') : '');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kalata-review-unit-'));
  cpSync(join(FIXTURE, 'flows'), join(root, 'flows'), { recursive: true });
  cpSync(join(FIXTURE, 'locales'), join(root, 'locales'), { recursive: true });
  writeFileSync(join(root, 'flows', 'keywords.yaml'), KEYWORDS);
  writeFileSync(join(root, 'flows', 'variables.yaml'), `# Values admins set\nhotline:\n  fr: "le 8080" # the short number\n  bm: "8080"\n`);
  // One namespace without the legacy list: its strings are machine drafts.
  const main = JSON.parse(read('locales/bm/main.json')) as Record<string, unknown>;
  delete main.$review;
  writeFileSync(join(root, 'locales', 'bm', 'main.json'), `${JSON.stringify(main, null, 2)}\n`);
  sources = reviewSources({ flowsDir: join(root, 'flows'), localesDir: join(root, 'locales') });
  options = { flowsDir: sources.flowsDir, localesDir: sources.localesDir, limits: { gsm7: 182, ucs2: 80 }, spelling: 'standard', root };
});

describe('review states', () => {
  it('lists every text, variable and keyword list with its French, Bambara and state', () => {
    const all = entries();
    expect(all.find((e) => e.id === 'main:home.title')).toMatchObject({ kind: 'text', namespace: 'main', key: 'home.title', french: 'Accueil', text: 'Daminɛ', state: 'draft', by: null, at: null, file: 'locales/bm/main.json' });
    expect(all.find((e) => e.id === 'variables:hotline')).toMatchObject({ kind: 'variable', french: 'le 8080', text: '8080', state: 'draft', file: 'flows/variables.yaml' });
    expect(all.find((e) => e.id === 'keywords:help')).toMatchObject({ kind: 'keyword', text: 'AIDE, DƐMƐ', state: 'draft', file: 'flows/keywords.yaml' });
    expect(all.filter((e) => e.kind === 'keyword').map((e) => e.key)).toEqual(['help', 'status', 'stop', 'start', 'station']);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });

  it('counts the legacy $review arrays as reviewed, without who or when', () => {
    expect(entry('common:nav.more')).toMatchObject({ state: 'reviewed', by: null, at: null });
    const counts = reviewCounts(entries());
    expect(counts.variable).toEqual({ reviewed: 0, draft: 1, changed: 0, total: 1 });
    expect(counts.keyword).toEqual({ reviewed: 0, draft: 5, changed: 0, total: 5 });
    expect(counts.text.reviewed).toBeGreaterThanOrEqual(14);
    expect(counts.all.total).toBe(counts.text.total + 6);
  });

  it('hashes both texts, NFC, so that only a real change of either counts', () => {
    const h = reviewHash('Accueil', 'Daminɛ');
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(reviewHash('Accueil', 'Daminɛ'.normalize('NFD'))).toBe(h);
    expect(reviewHash('Accueil ', 'Daminɛ')).not.toBe(h);
    expect(reviewHash('Accueil', 'Damine')).not.toBe(h);
    expect(reviewHash('Daminɛ', 'Accueil')).not.toBe(h);
  });

  it('records a sign-off with who, when and the hash, in a sorted, stable ledger', () => {
    const done = applyReview(sources, options, 'bm', [{ id: 'main:home.title', signOff: true }, { id: 'keywords:help', signOff: true }], 'awa', AT);
    expect(done).toMatchObject({ ok: true, edited: [], signedOff: ['main:home.title', 'keywords:help'] });
    expect(entry('main:home.title')).toMatchObject({ state: 'reviewed', by: 'awa', at: '2026-12-01T10:00:00.000Z' });
    const text = readFileSync(sources.ledgerFile, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ version: 2 });
    expect(Object.keys(JSON.parse(text).signoffs.bm)).toEqual(['keywords:help', 'main:home.title']);
    expect(text).toBe(formatLedger(readLedger(sources.ledgerFile)));
    expect(text.endsWith('}\n')).toBe(true);
    // Nothing but the ledger was written.
    expect(read('locales/bm/main.json')).toContain('"title": "Daminɛ"');
  });

  it('shows a string as changed once its French or its Bambara is edited after the sign-off', () => {
    applyReview(sources, options, 'bm', [{ id: 'main:home.title', signOff: true }, { id: 'main:home.help', signOff: true }], 'awa', AT);
    const fr = join(root, 'locales', 'fr', 'main.json');
    writeFileSync(fr, readFileSync(fr, 'utf8').replace('"title": "Accueil"', '"title": "Menu principal"'));
    expect(entry('main:home.title')).toMatchObject({ state: 'changed', by: 'awa' });
    // An edit saved without a sign-off is a change too.
    expect(applyReview(sources, options, 'bm', [{ id: 'main:home.help', text: 'Dɛmɛ sɔrɔ', signOff: false }], 'moussa').ok).toBe(true);
    expect(entry('main:home.help')).toMatchObject({ state: 'changed', by: 'awa', text: 'Dɛmɛ sɔrɔ' });
    // Signed off again: reviewed, by the new reviewer.
    applyReview(sources, options, 'bm', [{ id: 'main:home.help', signOff: true }], 'moussa', AT);
    expect(entry('main:home.help')).toMatchObject({ state: 'reviewed', by: 'moussa' });
    expect(reviewCounts(entries()).all.changed).toBe(1);
  });

  it('replaces the validator’s legacy review warnings with counts from the ledger', () => {
    const legacy = { file: 'locales/bm/main.json', line: 1, col: 1, severity: 'warning' as const, message: "8 of 8 Bamanankan texts await a native speaker's review" };
    const other = { file: 'flows/main.yaml', line: 3, col: 1, severity: 'warning' as const, message: 'something else' };
    applyReview(sources, options, 'bm', [{ id: 'main:home.title', signOff: true }], 'awa', AT);
    const out = withReviewWarnings([legacy, other], review());
    expect(out).toContainEqual(other);
    expect(out).not.toContainEqual(legacy);
    expect(out.map((p) => `${p.file} ${p.message}`)).toEqual(
      expect.arrayContaining([
        "locales/bm/main.json 7 of 8 Bamanankan texts await a native speaker's review",
        "flows/variables.yaml 1 of 1 variables (Bamanankan values) await a native speaker's review",
        "flows/keywords.yaml 5 of 5 SMS keyword lists (Bamanankan) await a native speaker's review",
      ]),
    );
  });

  it('refuses to write over an unreadable ledger, and says so when listing', () => {
    writeFileSync(sources.ledgerFile, '{ not json');
    const done = applyReview(sources, options, 'bm', [{ id: 'main:home.title', signOff: true }], 'awa');
    expect(done.ok).toBe(false);
    expect(readFileSync(sources.ledgerFile, 'utf8')).toBe('{ not json');
    expect(loadReview(sources, root).problems[0]!.message).toMatch(/^review ledger ignored/);
  });
});

describe('edits', () => {
  it('writes an edited Bambara text into its locale file in place, every other byte kept', () => {
    const before = read('locales/bm/main.json');
    const done = applyReview(sources, options, 'bm', [{ id: 'main:home.title', text: 'Daminɛ "yɔrɔ"', signOff: true }], 'awa', AT);
    expect(done.ok).toBe(true);
    expect(read('locales/bm/main.json')).toBe(before.replace('"title": "Daminɛ"', '"title": "Daminɛ \\"yɔrɔ\\""'));
    expect(entry('main:home.title')).toMatchObject({ text: 'Daminɛ "yɔrɔ"', state: 'reviewed', by: 'awa' });
  });

  it('edits a string in JSON of any layout, and adds a key a file lacks', () => {
    const src = '{"a": {"b": "x", "c": ["y", {"d": "z\\"q"}]},\n   "e":"w"}';
    expect(locateJsonString(src, ['a', 'c', '1', 'd'])).toBeDefined();
    expect(setJsonString(src, ['e'], 'ɛ')).toBe('{"a": {"b": "x", "c": ["y", {"d": "z\\"q"}]},\n   "e":"ɛ"}');
    expect(JSON.parse(setJsonString(src, ['a', 'n', 'm'], 'new'))).toMatchObject({ a: { n: { m: 'new' } }, e: 'w' });
  });

  it('writes a variable and a keyword list back into the YAML, comments and quotes kept', () => {
    const done = applyReview(sources, options, 'bm', [{ id: 'variables:hotline', text: 'nimɔrɔ 8080', signOff: true }, { id: 'keywords:help', text: 'AIDE, DƐMƐ, KUNNAFONI', signOff: true }], 'awa', AT);
    expect(done).toMatchObject({ ok: true, edited: ['variables:hotline', 'keywords:help'] });
    expect(read('flows/variables.yaml')).toBe(`# Values admins set\nhotline:\n  fr: "le 8080" # the short number\n  bm: "nimɔrɔ 8080"\n`);
    expect(read('flows/keywords.yaml')).toBe(KEYWORDS.replace('help: [AIDE, DƐMƐ]', 'help: [AIDE, DƐMƐ, KUNNAFONI]'));
    expect(entry('keywords:help')).toMatchObject({ state: 'reviewed', text: 'AIDE, DƐMƐ, KUNNAFONI' });
  });

  it('refuses a text whose placeholders differ from the French, writing nothing', () => {
    const before = snapshot();
    const done = applyReview(sources, options, 'bm', [{ id: 'main:help.text', text: 'I ka wele.', signOff: true }], 'awa');
    expect(done).toEqual({ ok: false, problems: ['main:help.text : les emplacements {{…}} doivent être ceux du français (il manque {{hotline}})'] });
    expect(snapshot()).toBe(before);
  });

  it('refuses a text that breaks a screen limit, with the flow check’s problem, writing nothing', () => {
    const before = snapshot();
    const done = applyReview(sources, options, 'bm', [{ id: 'main:home.title', signOff: true }, { id: 'main:bye.text', text: `K'an bɛn ${'ɛ'.repeat(120)}.`, signOff: true }], 'awa');
    expect(done.ok).toBe(false);
    if (done.ok) return;
    expect(done.problems[0]).toBe('Avec ce texte, la vérification des menus échoue ; rien n’est écrit :');
    expect(done.problems.slice(1).join('\n')).toMatch(/^flows\/main\.yaml:\d+:\d+ .*main\.bye/m);
    expect(snapshot()).toBe(before);
    expect(entry('main:home.title').state).toBe('draft');
  });

  it('refuses unknown ids, empty texts, control characters and bad keywords, all together', () => {
    const before = snapshot();
    const done = applyReview(
      sources,
      options,
      'bm',
      [
        { id: 'main:nope', signOff: true },
        { id: 'main:home.help', text: '   ', signOff: true },
        { id: 'main:home.bye', text: 'Bɔ\u0007', signOff: true },
        { id: 'keywords:stop', text: 'STOP, A-B, STOP', signOff: true },
        { id: 'main:home.title', signOff: true },
      ],
      'awa',
    );
    expect(done.ok).toBe(false);
    if (done.ok) return;
    expect(done.problems).toEqual([
      'main:nope : identifiant inconnu « main:nope »',
      'main:home.help : le texte en Bamanankan est vide',
      'main:home.bye : le texte en Bamanankan contient un caractère de contrôle',
      'keywords:stop : un mot-clé est un seul mot de lettres ou de chiffres (refusé : A-B)',
      'keywords:stop : un mot-clé est en double',
    ]);
    expect(snapshot()).toBe(before);
  });
});

describe('CSV for offline review', () => {
  const rows = (csv: string) => csv.replace(/^\uFEFF/, '').trimEnd().split('\r\n');

  it('exports every string with its state, a byte-order mark first', () => {
    applyReview(sources, options, 'bm', [{ id: 'main:home.title', signOff: true }], 'awa', AT);
    const csv = reviewCsv(entries(), 'bm');
    expect(csv.startsWith('\uFEFF"id","kind","french","bm","state","reviewed_by","reviewed_at"\r\n')).toBe(true);
    expect(rows(csv)).toContain('"main:home.title","text","Accueil","Daminɛ","reviewed","awa","2026-12-01T10:00:00.000Z"');
    expect(rows(csv)).toContain('"keywords:help","keyword","Aide : la liste des mots-clés","AIDE, DƐMƐ","draft","",""');
    expect(rows(csv)).toHaveLength(entries().length + 1);
  });

  it('round-trips: re-importing an export changes nothing and keeps the real reviewer', () => {
    applyReview(sources, options, 'bm', [{ id: 'main:home.title', signOff: true }], 'awa', AT);
    const before = snapshot();
    const csv = reviewCsv(entries(), 'bm');
    expect(parseReviewCsv(csv, review(), 'bm')).toMatchObject({ problems: [] });
    expect(parseReviewCsv(csv, review(), 'bm').changes.filter((c) => c.signOff || c.text !== undefined)).toEqual([]);
    expect(importReviewCsv(sources, options, 'bm', csv, 'moussa')).toMatchObject({ ok: true, edited: [], signedOff: [] });
    expect(snapshot()).toBe(before);
    expect(entry('main:home.title').by).toBe('awa');
  });

  it('applies edited texts and sign-offs with the importing user’s name, from a French spreadsheet (;)', () => {
    const csv = [
      'id;kind;french;bambara;state;reviewed_by;reviewed_at',
      '"main:home.help";"text";"Aide";"Dɛmɛ sɔrɔ";"relu";"";""',
      '"main:home.bye";"text";"Quitter";"Bɔ";"reviewed";"";""',
      '"variables:hotline";"variable";"le 8080";"nimɔrɔ 8080";"draft";"";""',
      '"keywords:station";"keyword";"x";"BUREAU BIRO";"draft";"";""',
      '',
    ].join('\r\n');
    // The keyword row's French is the export's meaning: "x" is not it.
    const refused = importReviewCsv(sources, options, 'bm', csv, 'fanta', AT);
    expect(refused).toEqual({ ok: false, problems: ['ligne 5 : le texte français a changé depuis l’export ; relisez la version actuelle'] });
    const fixed = csv.replace('"keyword";"x"', `"keyword";"${entry('keywords:station').french}"`);
    const done = importReviewCsv(sources, options, 'bm', fixed, 'fanta', AT);
    expect(done).toMatchObject({ ok: true, edited: ['main:home.help', 'variables:hotline'], signedOff: ['main:home.help', 'main:home.bye'] });
    expect(entry('main:home.help')).toMatchObject({ text: 'Dɛmɛ sɔrɔ', state: 'reviewed', by: 'fanta', at: AT.toISOString() });
    expect(entry('main:home.bye')).toMatchObject({ state: 'reviewed', by: 'fanta' });
    expect(entry('variables:hotline')).toMatchObject({ text: 'nimɔrɔ 8080', state: 'draft' });
    // The keyword list, the same words separated otherwise, is no edit.
    expect(read('flows/keywords.yaml')).toBe(KEYWORDS);
  });

  it('takes off the quote the export puts before a formula-looking cell', () => {
    const csv = `id,bambara,state\r\nmain:home.bye,"'-Bɔ",reviewed\r\n`;
    expect(importReviewCsv(sources, options, 'bm', csv, 'awa', AT)).toMatchObject({ ok: true, edited: ['main:home.bye'] });
    expect(entry('main:home.bye').text).toBe('-Bɔ');
  });

  it('rejects unknown ids and malformed rows with a plain reason per row, and writes nothing', () => {
    const before = snapshot();
    const csv = [
      '"id","kind","french","bambara","state","reviewed_by","reviewed_at"',
      '"main:home.help","text","Aide","Dɛmɛ sɔrɔ","reviewed","",""',
      '"main:nope","text","?","?","reviewed","",""',
      '"main:home.bye","text","Quitter","Bɔ","peut-être","",""',
      '"main:home.title","text","Accueil"',
      '"","text","","x","draft","",""',
      '"main:help.text","text","Appelez {{hotline}}.","I ka wele.","reviewed","",""',
    ].join('\r\n');
    const done = importReviewCsv(sources, options, 'bm', csv, 'awa');
    expect(done).toEqual({
      ok: false,
      problems: [
        'ligne 4 : état « peut-être » inconnu (reviewed pour valider, draft sinon)',
        'ligne 5 : 3 colonne(s) au lieu de 7',
        'ligne 6 : pas d’identifiant (colonne id)',
      ],
    });
    // Rows that parse but cannot apply are the next layer, still all or nothing.
    const parsable = csv.split('\r\n').filter((_l, i) => ![3, 4, 5].includes(i)).join('\r\n');
    const second = importReviewCsv(sources, options, 'bm', parsable, 'awa');
    expect(second).toEqual({
      ok: false,
      problems: ['ligne 3 : identifiant inconnu « main:nope »', 'ligne 4 : les emplacements {{…}} doivent être ceux du français (il manque {{hotline}})'],
    });
    expect(snapshot()).toBe(before);
  });

  it('refuses a file without the needed columns, or with a broken quote, with its line', () => {
    expect(importReviewCsv(sources, options, 'bm', 'id,french\r\nmain:home.bye,Quitter\r\n', 'awa')).toEqual({
      ok: false,
      problems: ['ligne 1 : colonne(s) manquante(s) : bm, state (attendu : id, kind, french, bm, state, reviewed_by, reviewed_at)'],
    });
    const broken = importReviewCsv(sources, options, 'bm', 'id,bambara,state\r\nmain:home.bye,"Bɔ,reviewed\r\n', 'awa');
    expect(broken).toMatchObject({ ok: false, problems: [expect.stringMatching(/^ligne \d+ : fichier CSV illisible \(guillemet jamais refermé\)$/)] });
  });
});

describe('the ledger, version 2', () => {
  const V1 = (hash: string) => `${JSON.stringify({ version: 1, signoffs: { 'main:home.title': { by: 'awa', at: '2026-11-01T09:00:00.000Z', hash } } }, null, 2)}\n`;

  it('reads a version-1 ledger as Bambara’s, and writes it back as version 2 at the next sign-off', () => {
    writeFileSync(sources.ledgerFile, V1(reviewHash('Accueil', 'Daminɛ')));
    expect(readLedger(sources.ledgerFile)).toEqual({ version: 2, signoffs: { bm: { 'main:home.title': { by: 'awa', at: '2026-11-01T09:00:00.000Z', hash: reviewHash('Accueil', 'Daminɛ') } } } });
    // The sign-off carried over still holds: the hash is the same as version 1's.
    expect(entry('main:home.title')).toMatchObject({ language: 'bm', state: 'reviewed', by: 'awa' });
    // Listing reads it and writes nothing.
    expect(readFileSync(sources.ledgerFile, 'utf8')).toBe(V1(reviewHash('Accueil', 'Daminɛ')));
    expect(applyReview(sources, options, 'bm', [{ id: 'main:home.help', signOff: true }], 'moussa', AT)).toMatchObject({ ok: true, language: 'bm', signedOff: ['main:home.help'] });
    const text = readFileSync(sources.ledgerFile, 'utf8');
    expect(JSON.parse(text)).toEqual({
      version: 2,
      signoffs: {
        bm: {
          'main:home.help': { by: 'moussa', at: AT.toISOString(), hash: entry('main:home.help').hash },
          'main:home.title': { by: 'awa', at: '2026-11-01T09:00:00.000Z', hash: reviewHash('Accueil', 'Daminɛ') },
        },
      },
    });
    expect(text).toBe(formatLedger(readLedger(sources.ledgerFile)));
    expect(entry('main:home.title')).toMatchObject({ state: 'reviewed', by: 'awa' });
  });

  it('formats languages and ids sorted, and leaves out a language without sign-offs', () => {
    const s = { by: 'a', at: 'b', hash: 'c' };
    expect(formatLedger({ version: 2, signoffs: { qaa: { 'z:a': s, 'a:z': s }, bm: { 'x:y': s }, ses: {} } })).toBe(
      `${JSON.stringify({ version: 2, signoffs: { bm: { 'x:y': s }, qaa: { 'a:z': s, 'z:a': s } } }, null, 2)}\n`,
    );
  });

  it('refuses a ledger of an unknown version, or with a block that is no language’s, as unreadable', () => {
    writeFileSync(sources.ledgerFile, JSON.stringify({ version: 3, signoffs: {} }));
    expect(() => readLedger(sources.ledgerFile)).toThrow(LedgerError);
    expect(applyReview(sources, options, 'bm', [{ id: 'main:home.title', signOff: true }], 'awa')).toMatchObject({ ok: false, problems: [expect.stringMatching(/^Le registre des relectures est illisible.*version 3 inconnue/)] });
    writeFileSync(sources.ledgerFile, JSON.stringify({ version: 2, signoffs: { 'main:home.title': { by: 'a', at: 'b', hash: 'c' } } }));
    expect(() => readLedger(sources.ledgerFile)).toThrow(/"main:home.title" n’est pas un bloc de langue/);
    writeFileSync(sources.ledgerFile, JSON.stringify({ version: 2, signoffs: { bm: { 'main:home.title': { by: 'a' } } } }));
    expect(() => readLedger(sources.ledgerFile)).toThrow(/entrée bm\/main:home.title incomplète/);
    expect(loadReview(sources, root).problems[0]!.message).toMatch(/^review ledger ignored/);
  });

  it('refuses a change to a language that is not under review', () => {
    expect(applyReview(sources, options, 'fr', [{ id: 'main:home.title', signOff: true }], 'awa')).toEqual({ ok: false, problems: [expect.stringMatching(/^langue « fr » : elle n’est pas à relire \(langues à relire : bm ;/)] });
    expect(importReviewCsv(sources, options, 'qaa', 'id,qaa,state\r\n', 'awa')).toMatchObject({ ok: false, problems: [expect.stringMatching(/^langue « qaa »/)] });
    expect(existsSync(sources.ledgerFile)).toBe(false);
  });
});

describe('a language besides Bambara (qaa, in the third-language fixture)', () => {
  let third: { root: string; sources: ReviewSources; options: FlowSetOptions };
  const all = () => loadReview(third.sources, third.root);
  const of = (lang: string, id: string) => all().entries.find((e) => e.language === lang && e.id === id)!;
  const file = (path: string) => readFileSync(join(third.root, path), 'utf8');

  beforeEach(() => {
    const dir = mkdtempSync(join(tmpdir(), 'kalata-review-qaa-'));
    cpSync(join(THIRD, 'flows'), join(dir, 'flows'), { recursive: true });
    cpSync(join(THIRD, 'locales'), join(dir, 'locales'), { recursive: true });
    writeFileSync(join(dir, 'flows', 'keywords.yaml'), KEYWORDS);
    const s = reviewSources({ flowsDir: join(dir, 'flows'), localesDir: join(dir, 'locales') });
    third = { root: dir, sources: s, options: { flowsDir: s.flowsDir, localesDir: s.localesDir, limits: { gsm7: 182, ucs2: 80 }, spelling: 'standard', root: dir } };
  });

  it('lists each language under review with its own entries, French as the reference', () => {
    const review = all();
    expect(review.languages).toEqual([{ code: 'bm', name: 'Bamanankan' }, { code: 'qaa', name: 'Qaa' }]);
    expect(review.source).toBe('fr');
    expect(of('qaa', 'main:home.title')).toMatchObject({ kind: 'text', french: 'Accueil', text: 'Qaa Accueil', state: 'draft', file: 'locales/qaa/main.json' });
    expect(of('qaa', 'variables:hotline')).toMatchObject({ kind: 'variable', french: 'le 8080', text: '8080', file: 'flows/variables.yaml' });
    // The keywords are one list, reviewed in each language.
    expect(of('qaa', 'keywords:help')).toMatchObject({ text: 'AIDE, DƐMƐ' });
    expect(of('bm', 'keywords:help')).toMatchObject({ text: 'AIDE, DƐMƐ' });
    const ids = (lang: string) => review.entries.filter((e) => e.language === lang).map((e) => e.id);
    expect(ids('qaa')).toEqual(ids('bm'));
    expect(review.entries.some((e) => e.language === 'fr')).toBe(false);
  });

  it('signs off and edits in qaa without touching Bambara’s texts or sign-offs', () => {
    expect(applyReview(third.sources, third.options, 'bm', [{ id: 'main:home.title', signOff: true }], 'awa', AT).ok).toBe(true);
    const bmBefore = ['locales/bm/main.json', 'locales/bm/common.json', 'locales/bm/sms.json'].map(file).join('\0');
    const bmEntries = all().entries.filter((e) => e.language === 'bm');
    const done = applyReview(third.sources, third.options, 'qaa', [{ id: 'main:home.title', signOff: true }, { id: 'main:home.help', text: 'Qaa Aide !', signOff: true }, { id: 'variables:hotline', text: '8080 (qaa)', signOff: false }], 'moussa', AT);
    expect(done).toMatchObject({ ok: true, language: 'qaa', edited: ['main:home.help', 'variables:hotline'], signedOff: ['main:home.title', 'main:home.help'] });
    expect(of('qaa', 'main:home.title')).toMatchObject({ state: 'reviewed', by: 'moussa' });
    expect(of('qaa', 'main:home.help')).toMatchObject({ text: 'Qaa Aide !', state: 'reviewed' });
    expect(JSON.parse(file('locales/qaa/main.json')).home.help).toBe('Qaa Aide !');
    expect(file('flows/variables.yaml')).toContain('  qaa: "8080 (qaa)"\n');
    expect(file('flows/variables.yaml')).toContain('  bm: "8080"\n');
    // Bambara: the same files, the same sign-offs.
    expect(['locales/bm/main.json', 'locales/bm/common.json', 'locales/bm/sms.json'].map(file).join('\0')).toBe(bmBefore);
    expect(of('bm', 'main:home.title')).toMatchObject({ state: 'reviewed', by: 'awa' });
    expect(of('bm', 'variables:hotline')).toMatchObject({ text: '8080', state: 'draft' });
    expect(all().entries.filter((e) => e.language === 'bm')).toEqual(bmEntries);
    const ledger = JSON.parse(readFileSync(third.sources.ledgerFile, 'utf8')) as { version: number; signoffs: Record<string, Record<string, { by: string }>> };
    expect(ledger.version).toBe(2);
    expect(Object.keys(ledger.signoffs)).toEqual(['bm', 'qaa']);
    expect(Object.keys(ledger.signoffs.bm!)).toEqual(['main:home.title']);
    expect(Object.keys(ledger.signoffs.qaa!)).toEqual(['main:home.help', 'main:home.title']);
  });

  it('checks a qaa edit against the French placeholders, and names the language in its reasons', () => {
    const before = file('locales/qaa/main.json');
    expect(applyReview(third.sources, third.options, 'qaa', [{ id: 'main:help.text', text: 'Qaa Appelez.', signOff: true }, { id: 'main:home.bye', text: ' ', signOff: true }], 'awa')).toEqual({
      ok: false,
      problems: ['main:help.text : les emplacements {{…}} doivent être ceux du français (il manque {{hotline}})', 'main:home.bye : le texte en Qaa est vide'],
    });
    expect(file('locales/qaa/main.json')).toBe(before);
    expect(existsSync(third.sources.ledgerFile)).toBe(false);
  });

  it('exports and imports one language’s CSV, its column headed by its code, never touching the other', () => {
    applyReview(third.sources, third.options, 'bm', [{ id: 'main:home.bye', signOff: true }], 'awa', AT);
    const qaa = all().entries.filter((e) => e.language === 'qaa');
    const csv = reviewCsv(qaa, 'qaa');
    expect(reviewCsvFileName('qaa')).toBe('kalata-relecture-qaa.csv');
    const lines = csv.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe('"id","kind","french","qaa","state","reviewed_by","reviewed_at"');
    expect(lines).toContain('"main:home.title","text","Accueil","Qaa Accueil","draft","",""');
    const edited = lines.map((l) => (l.startsWith('"main:home.bye"') ? l.replace('"Qaa Quitter","draft"', '"Qaa Sortir","relu"') : l)).join('\r\n');
    // The language is the one the header names; given, it must be that one.
    expect(importReviewCsv(third.sources, third.options, 'bm', edited, 'fanta', AT)).toEqual({ ok: false, problems: ['ligne 1 : ce fichier est la relecture de la langue « qaa », pas de « bm » : importez-le depuis la page de cette langue'] });
    expect(importReviewCsv(third.sources, third.options, undefined, edited, 'fanta', AT)).toMatchObject({ ok: true, language: 'qaa', edited: ['main:home.bye'], signedOff: ['main:home.bye'] });
    expect(of('qaa', 'main:home.bye')).toMatchObject({ text: 'Qaa Sortir', state: 'reviewed', by: 'fanta' });
    expect(of('bm', 'main:home.bye')).toMatchObject({ state: 'reviewed', by: 'awa' });
    expect(JSON.parse(file('locales/bm/main.json')).home.bye).toBe(of('bm', 'main:home.bye').text);
    // Today's Bambara files (column `bambara`) still import as Bambara's.
    const draft = all().entries.find((e) => e.language === 'bm' && e.kind === 'text' && e.state === 'draft')!;
    const bambara = `id,bambara,state\r\n${draft.id},"${draft.text}",reviewed\r\n`;
    expect(importReviewCsv(third.sources, third.options, undefined, bambara, 'fanta', AT)).toMatchObject({ ok: true, language: 'bm', edited: [], signedOff: [draft.id] });
    expect(of('bm', draft.id)).toMatchObject({ state: 'reviewed', by: 'fanta' });
    expect(of('qaa', draft.id).state).toBe('draft');
    expect(parseReviewCsv('id,bm,qaa,state\r\n', all())).toEqual({ changes: [], problems: ['ligne 1 : une colonne par langue au plus (ce fichier en a pour bm, qaa)'] });
    expect(parseReviewCsv('id,text,state\r\n', all())).toEqual({ changes: [], problems: ['ligne 1 : colonne(s) manquante(s) : la colonne de la langue (bm ou qaa) (attendu : id, kind, french, bm ou qaa, state, reviewed_by, reviewed_at)'] });
  });

  it('warns per language and file, with the language’s name, in place of the validator’s legacy count', () => {
    applyReview(third.sources, third.options, 'qaa', [{ id: 'main:home.title', signOff: true }, { id: 'keywords:help', signOff: true }], 'awa', AT);
    const legacy = (lang: string, name: string) => ({ file: `locales/${lang}/main.json`, line: 1, col: 1, severity: 'warning' as const, message: `10 of 10 ${name} texts await a native speaker's review` });
    const out = withReviewWarnings([legacy('bm', 'Bamanankan'), legacy('qaa', 'Qaa')], all()).map((p) => `${p.file} ${p.message}`);
    expect(out).not.toContain("locales/qaa/main.json 10 of 10 Qaa texts await a native speaker's review");
    expect(out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^locales\/bm\/main\.json \d+ of \d+ Bamanankan texts await a native speaker's review$/),
        expect.stringMatching(/^locales\/qaa\/main\.json \d+ of \d+ Qaa texts await a native speaker's review$/),
        expect.stringMatching(/^locales\/qaa\/common\.json \d+ of \d+ Qaa texts await a native speaker's review$/),
        expect.stringMatching(/^locales\/qaa\/sms\.json \d+ of \d+ Qaa texts await a native speaker's review$/),
        "flows/variables.yaml 1 of 1 variables (Bamanankan values) await a native speaker's review",
        "flows/variables.yaml 1 of 1 variables (Qaa values) await a native speaker's review",
        "flows/keywords.yaml 5 of 5 SMS keyword lists (Bamanankan) await a native speaker's review",
        "flows/keywords.yaml 4 of 5 SMS keyword lists (Qaa) await a native speaker's review",
      ]),
    );
    const qaaMain = out.find((l) => l.startsWith('locales/qaa/main.json'))!;
    const [pending, total] = qaaMain.split(' ').slice(1, 4).filter((w) => /^\d+$/.test(w)).map(Number);
    expect(pending).toBe(total! - 1);
    // Qaa: three locale files, variables and keywords; nothing of Bambara named Qaa, nor the reverse.
    expect(out.filter((l) => /Qaa/.test(l))).toHaveLength(5);
    expect(out.filter((l) => /Qaa/.test(l)).every((l) => !l.startsWith('locales/bm/'))).toBe(true);
    expect(out.filter((l) => /Bamanankan/.test(l)).every((l) => !l.startsWith('locales/qaa/'))).toBe(true);
  });

  it('says these warnings in French on the console, whatever the language’s name', () => {
    expect(problemMessage("9 of 10 Qaa texts await a native speaker's review (1 changed since signed off)")).toBe('9 textes en Qaa sur 10 attendent la relecture d’un locuteur (1 modifié(s) depuis la relecture)');
    expect(problemMessage("3 of 40 Bamanankan texts await a native speaker's review")).toBe('3 textes en Bamanankan sur 40 attendent la relecture d’un locuteur');
    expect(problemMessage("1 of 1 variables (Tamajaq values) await a native speaker's review")).toBe('1 variables sur 1 (valeurs en Tamajaq) attendent la relecture d’un locuteur');
    expect(problemMessage("4 of 5 SMS keyword lists (Qaa) await a native speaker's review")).toBe('4 listes de mots-clés SMS sur 5 attendent la relecture d’un locuteur (en Qaa)');
  });
});

describe('npm run flows:check', () => {
  it('lists every string with its state and reviewer, and the counts per kind', () => {
    applyReview(sources, options, 'bm', [{ id: 'main:home.title', signOff: true }, { id: 'main:home.help', signOff: true }, { id: 'variables:hotline', signOff: true }], 'awa', AT);
    const fr = join(root, 'locales', 'fr', 'main.json');
    writeFileSync(fr, readFileSync(fr, 'utf8').replace('"help": "Aide"', '"help": "Aide et contacts"'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main/flows-check.ts'], {
      encoding: 'utf8',
      env: { ...process.env, FLOWS_DIR: sources.flowsDir, LOCALES_DIR: sources.localesDir, NODE_OPTIONS: '' },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(r.stdout).toMatch(/^Bamanankan review \(bm; sign-offs in \S*locales\/review\.json\):$/m);
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `))?.replace(/\s+/g, ' ');
    expect(row('main:home.title')).toBe('main:home.title reviewed awa 2026-12-01');
    expect(row('main:home.help')).toBe('main:home.help changed awa 2026-12-01');
    expect(row('main:home.bye')).toBe('main:home.bye draft');
    expect(row('common:nav.more')).toBe('common:nav.more reviewed (legacy $review list, no name)');
    expect(row('variables:hotline')).toBe('variables:hotline reviewed awa 2026-12-01');
    expect(row('keywords:station')).toBe('keywords:station draft');
    expect(r.stdout).toMatch(/^Review \(bm\): texts \d+ reviewed, 6 draft, 1 changed \(of \d+\); variables 1 reviewed, 0 draft, 0 changed \(of 1\); keywords 0 reviewed, 5 draft, 0 changed \(of 5\); all /m);
    expect(r.stdout).toContain("locales/bm/main.json:1:1 warning: 7 of 8 Bamanankan texts await a native speaker's review (1 changed since signed off)");
    expect(r.stdout).not.toMatch(/8 of 8 Bamanankan texts/);
  }, 60_000);
});
