/**
 * The review of the Bambara strings (src/i18n/review.ts, review-csv.ts), on a
 * temporary copy of the `valid` fixture with a keywords file: states, hashes,
 * a string changed after its sign-off, the legacy `$review` arrays, edits
 * written in place, edits refused with nothing written, and the CSV round trip.
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
import { importReviewCsv, parseReviewCsv, reviewCsv } from '../../src/i18n/review-csv.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'flows', 'valid');
const KEYWORDS = `# SMS keywords\nhelp: [AIDE, DƐMƐ]\nstatus: [STATUT]\nstop: [STOP]\nstart: [START]\nstation: [BUREAU, BIRO]\n`;
const AT = new Date('2026-12-01T10:00:00.000Z');

let root: string;
let sources: ReviewSources;
let options: FlowSetOptions;

const entries = () => loadReview(sources, root).entries;
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
    expect(all.find((e) => e.id === 'main:home.title')).toMatchObject({ kind: 'text', namespace: 'main', key: 'home.title', french: 'Accueil', bambara: 'Daminɛ', state: 'draft', by: null, at: null, file: 'locales/bm/main.json' });
    expect(all.find((e) => e.id === 'variables:hotline')).toMatchObject({ kind: 'variable', french: 'le 8080', bambara: '8080', state: 'draft', file: 'flows/variables.yaml' });
    expect(all.find((e) => e.id === 'keywords:help')).toMatchObject({ kind: 'keyword', bambara: 'AIDE, DƐMƐ', state: 'draft', file: 'flows/keywords.yaml' });
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
    const done = applyReview(sources, options, [{ id: 'main:home.title', signOff: true }, { id: 'keywords:help', signOff: true }], 'awa', AT);
    expect(done).toMatchObject({ ok: true, edited: [], signedOff: ['main:home.title', 'keywords:help'] });
    expect(entry('main:home.title')).toMatchObject({ state: 'reviewed', by: 'awa', at: '2026-12-01T10:00:00.000Z' });
    const text = readFileSync(sources.ledgerFile, 'utf8');
    expect(Object.keys(JSON.parse(text).signoffs)).toEqual(['keywords:help', 'main:home.title']);
    expect(text).toBe(formatLedger(readLedger(sources.ledgerFile)));
    expect(text.endsWith('}\n')).toBe(true);
    // Nothing but the ledger was written.
    expect(read('locales/bm/main.json')).toContain('"title": "Daminɛ"');
  });

  it('shows a string as changed once its French or its Bambara is edited after the sign-off', () => {
    applyReview(sources, options, [{ id: 'main:home.title', signOff: true }, { id: 'main:home.help', signOff: true }], 'awa', AT);
    const fr = join(root, 'locales', 'fr', 'main.json');
    writeFileSync(fr, readFileSync(fr, 'utf8').replace('"title": "Accueil"', '"title": "Menu principal"'));
    expect(entry('main:home.title')).toMatchObject({ state: 'changed', by: 'awa' });
    // An edit saved without a sign-off is a change too.
    expect(applyReview(sources, options, [{ id: 'main:home.help', bambara: 'Dɛmɛ sɔrɔ', signOff: false }], 'moussa').ok).toBe(true);
    expect(entry('main:home.help')).toMatchObject({ state: 'changed', by: 'awa', bambara: 'Dɛmɛ sɔrɔ' });
    // Signed off again: reviewed, by the new reviewer.
    applyReview(sources, options, [{ id: 'main:home.help', signOff: true }], 'moussa', AT);
    expect(entry('main:home.help')).toMatchObject({ state: 'reviewed', by: 'moussa' });
    expect(reviewCounts(entries()).all.changed).toBe(1);
  });

  it('replaces the validator’s legacy review warnings with counts from the ledger', () => {
    const legacy = { file: 'locales/bm/main.json', line: 1, col: 1, severity: 'warning' as const, message: "8 of 8 Bamanankan texts await a native speaker's review" };
    const other = { file: 'flows/main.yaml', line: 3, col: 1, severity: 'warning' as const, message: 'something else' };
    applyReview(sources, options, [{ id: 'main:home.title', signOff: true }], 'awa', AT);
    const out = withReviewWarnings([legacy, other], entries());
    expect(out).toContainEqual(other);
    expect(out).not.toContainEqual(legacy);
    expect(out.map((p) => `${p.file} ${p.message}`)).toEqual(
      expect.arrayContaining([
        "locales/bm/main.json 7 of 8 Bambara texts await a native speaker's review",
        "flows/variables.yaml 1 of 1 variables (Bambara values) await a native speaker's review",
        "flows/keywords.yaml 5 of 5 SMS keyword lists await a native speaker's review",
      ]),
    );
  });

  it('refuses to write over an unreadable ledger, and says so when listing', () => {
    writeFileSync(sources.ledgerFile, '{ not json');
    const done = applyReview(sources, options, [{ id: 'main:home.title', signOff: true }], 'awa');
    expect(done.ok).toBe(false);
    expect(readFileSync(sources.ledgerFile, 'utf8')).toBe('{ not json');
    expect(loadReview(sources, root).problems[0]!.message).toMatch(/^review ledger ignored/);
  });
});

describe('edits', () => {
  it('writes an edited Bambara text into its locale file in place, every other byte kept', () => {
    const before = read('locales/bm/main.json');
    const done = applyReview(sources, options, [{ id: 'main:home.title', bambara: 'Daminɛ "yɔrɔ"', signOff: true }], 'awa', AT);
    expect(done.ok).toBe(true);
    expect(read('locales/bm/main.json')).toBe(before.replace('"title": "Daminɛ"', '"title": "Daminɛ \\"yɔrɔ\\""'));
    expect(entry('main:home.title')).toMatchObject({ bambara: 'Daminɛ "yɔrɔ"', state: 'reviewed', by: 'awa' });
  });

  it('edits a string in JSON of any layout, and adds a key a file lacks', () => {
    const src = '{"a": {"b": "x", "c": ["y", {"d": "z\\"q"}]},\n   "e":"w"}';
    expect(locateJsonString(src, ['a', 'c', '1', 'd'])).toBeDefined();
    expect(setJsonString(src, ['e'], 'ɛ')).toBe('{"a": {"b": "x", "c": ["y", {"d": "z\\"q"}]},\n   "e":"ɛ"}');
    expect(JSON.parse(setJsonString(src, ['a', 'n', 'm'], 'new'))).toMatchObject({ a: { n: { m: 'new' } }, e: 'w' });
  });

  it('writes a variable and a keyword list back into the YAML, comments and quotes kept', () => {
    const done = applyReview(sources, options, [{ id: 'variables:hotline', bambara: 'nimɔrɔ 8080', signOff: true }, { id: 'keywords:help', bambara: 'AIDE, DƐMƐ, KUNNAFONI', signOff: true }], 'awa', AT);
    expect(done).toMatchObject({ ok: true, edited: ['variables:hotline', 'keywords:help'] });
    expect(read('flows/variables.yaml')).toBe(`# Values admins set\nhotline:\n  fr: "le 8080" # the short number\n  bm: "nimɔrɔ 8080"\n`);
    expect(read('flows/keywords.yaml')).toBe(KEYWORDS.replace('help: [AIDE, DƐMƐ]', 'help: [AIDE, DƐMƐ, KUNNAFONI]'));
    expect(entry('keywords:help')).toMatchObject({ state: 'reviewed', bambara: 'AIDE, DƐMƐ, KUNNAFONI' });
  });

  it('refuses a text whose placeholders differ from the French, writing nothing', () => {
    const before = snapshot();
    const done = applyReview(sources, options, [{ id: 'main:help.text', bambara: 'I ka wele.', signOff: true }], 'awa');
    expect(done).toEqual({ ok: false, problems: ['main:help.text : les emplacements {{…}} doivent être ceux du français (il manque {{hotline}})'] });
    expect(snapshot()).toBe(before);
  });

  it('refuses a text that breaks a screen limit, with the flow check’s problem, writing nothing', () => {
    const before = snapshot();
    const done = applyReview(sources, options, [{ id: 'main:home.title', signOff: true }, { id: 'main:bye.text', bambara: `K'an bɛn ${'ɛ'.repeat(120)}.`, signOff: true }], 'awa');
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
      [
        { id: 'main:nope', signOff: true },
        { id: 'main:home.help', bambara: '   ', signOff: true },
        { id: 'main:home.bye', bambara: 'Bɔ\u0007', signOff: true },
        { id: 'keywords:stop', bambara: 'STOP, A-B, STOP', signOff: true },
        { id: 'main:home.title', signOff: true },
      ],
      'awa',
    );
    expect(done.ok).toBe(false);
    if (done.ok) return;
    expect(done.problems).toEqual([
      'main:nope : identifiant inconnu « main:nope »',
      'main:home.help : le texte bambara est vide',
      'main:home.bye : le texte bambara contient un caractère de contrôle',
      'keywords:stop : un mot-clé est un seul mot de lettres ou de chiffres (refusé : A-B)',
      'keywords:stop : un mot-clé est en double',
    ]);
    expect(snapshot()).toBe(before);
  });
});

describe('CSV for offline review', () => {
  const rows = (csv: string) => csv.replace(/^\uFEFF/, '').trimEnd().split('\r\n');

  it('exports every string with its state, a byte-order mark first', () => {
    applyReview(sources, options, [{ id: 'main:home.title', signOff: true }], 'awa', AT);
    const csv = reviewCsv(entries());
    expect(csv.startsWith('\uFEFF"id","kind","french","bambara","state","reviewed_by","reviewed_at"\r\n')).toBe(true);
    expect(rows(csv)).toContain('"main:home.title","text","Accueil","Daminɛ","reviewed","awa","2026-12-01T10:00:00.000Z"');
    expect(rows(csv)).toContain('"keywords:help","keyword","Aide : la liste des mots-clés","AIDE, DƐMƐ","draft","",""');
    expect(rows(csv)).toHaveLength(entries().length + 1);
  });

  it('round-trips: re-importing an export changes nothing and keeps the real reviewer', () => {
    applyReview(sources, options, [{ id: 'main:home.title', signOff: true }], 'awa', AT);
    const before = snapshot();
    const csv = reviewCsv(entries());
    expect(parseReviewCsv(csv, entries())).toMatchObject({ problems: [] });
    expect(parseReviewCsv(csv, entries()).changes.filter((c) => c.signOff || c.bambara !== undefined)).toEqual([]);
    expect(importReviewCsv(sources, options, csv, 'moussa')).toMatchObject({ ok: true, edited: [], signedOff: [] });
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
    const refused = importReviewCsv(sources, options, csv, 'fanta', AT);
    expect(refused).toEqual({ ok: false, problems: ['ligne 5 : le texte français a changé depuis l’export ; relisez la version actuelle'] });
    const fixed = csv.replace('"keyword";"x"', `"keyword";"${entry('keywords:station').french}"`);
    const done = importReviewCsv(sources, options, fixed, 'fanta', AT);
    expect(done).toMatchObject({ ok: true, edited: ['main:home.help', 'variables:hotline'], signedOff: ['main:home.help', 'main:home.bye'] });
    expect(entry('main:home.help')).toMatchObject({ bambara: 'Dɛmɛ sɔrɔ', state: 'reviewed', by: 'fanta', at: AT.toISOString() });
    expect(entry('main:home.bye')).toMatchObject({ state: 'reviewed', by: 'fanta' });
    expect(entry('variables:hotline')).toMatchObject({ bambara: 'nimɔrɔ 8080', state: 'draft' });
    // The keyword list, the same words separated otherwise, is no edit.
    expect(read('flows/keywords.yaml')).toBe(KEYWORDS);
  });

  it('takes off the quote the export puts before a formula-looking cell', () => {
    const csv = `id,bambara,state\r\nmain:home.bye,"'-Bɔ",reviewed\r\n`;
    expect(importReviewCsv(sources, options, csv, 'awa', AT)).toMatchObject({ ok: true, edited: ['main:home.bye'] });
    expect(entry('main:home.bye').bambara).toBe('-Bɔ');
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
    const done = importReviewCsv(sources, options, csv, 'awa');
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
    const second = importReviewCsv(sources, options, parsable, 'awa');
    expect(second).toEqual({
      ok: false,
      problems: ['ligne 3 : identifiant inconnu « main:nope »', 'ligne 4 : les emplacements {{…}} doivent être ceux du français (il manque {{hotline}})'],
    });
    expect(snapshot()).toBe(before);
  });

  it('refuses a file without the needed columns, or with a broken quote, with its line', () => {
    expect(importReviewCsv(sources, options, 'id,french\r\nmain:home.bye,Quitter\r\n', 'awa')).toEqual({
      ok: false,
      problems: ['ligne 1 : colonne(s) manquante(s) : bambara, state (attendu : id, kind, french, bambara, state, reviewed_by, reviewed_at)'],
    });
    const broken = importReviewCsv(sources, options, 'id,bambara,state\r\nmain:home.bye,"Bɔ,reviewed\r\n', 'awa');
    expect(broken).toMatchObject({ ok: false, problems: [expect.stringMatching(/^ligne \d+ : fichier CSV illisible \(guillemet jamais refermé\)$/)] });
  });
});

describe('npm run flows:check', () => {
  it('lists every string with its state and reviewer, and the counts per kind', () => {
    applyReview(sources, options, [{ id: 'main:home.title', signOff: true }, { id: 'main:home.help', signOff: true }, { id: 'variables:hotline', signOff: true }], 'awa', AT);
    const fr = join(root, 'locales', 'fr', 'main.json');
    writeFileSync(fr, readFileSync(fr, 'utf8').replace('"help": "Aide"', '"help": "Aide et contacts"'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main/flows-check.ts'], {
      encoding: 'utf8',
      env: { ...process.env, FLOWS_DIR: sources.flowsDir, LOCALES_DIR: sources.localesDir, NODE_OPTIONS: '' },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(r.stdout).toMatch(/^Bambara review \(sign-offs in \S*locales\/review\.json\):$/m);
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `))?.replace(/\s+/g, ' ');
    expect(row('main:home.title')).toBe('main:home.title reviewed awa 2026-12-01');
    expect(row('main:home.help')).toBe('main:home.help changed awa 2026-12-01');
    expect(row('main:home.bye')).toBe('main:home.bye draft');
    expect(row('common:nav.more')).toBe('common:nav.more reviewed (legacy $review list, no name)');
    expect(row('variables:hotline')).toBe('variables:hotline reviewed awa 2026-12-01');
    expect(row('keywords:station')).toBe('keywords:station draft');
    expect(r.stdout).toMatch(/^Review: texts \d+ reviewed, 6 draft, 1 changed \(of \d+\); variables 1 reviewed, 0 draft, 0 changed \(of 1\); keywords 0 reviewed, 5 draft, 0 changed \(of 5\); all /m);
    expect(r.stdout).toContain("locales/bm/main.json:1:1 warning: 7 of 8 Bambara texts await a native speaker's review (1 changed since signed off)");
    expect(r.stdout).not.toMatch(/8 of 8 Bambara texts/);
  }, 60_000);
});
