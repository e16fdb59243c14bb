/**
 * The flow validator, end to end through `checkFlows`: one fixture tree per
 * kind of error (test/fixtures/flows/<case>/, each a copy of `valid/` with one
 * thing broken), asserting the file, line, column and wording an admin would
 * see, then the real flows and their screen report.
 */
import { describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { checkFlows, type FlowCheck } from '../../src/flows/flow-set.js';
import { formatProblem, type Problem } from '../../src/flows/problems.js';
import { start, step } from '../../src/engine/step.js';
import type { BambaraSpelling } from '../../src/i18n/bambara-spelling.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const FIXTURES = join(HERE, '..', 'fixtures', 'flows');
const LIMITS = { gsm7: 182, ucs2: 80 } as const;

function checkTree(root: string, spelling: BambaraSpelling = 'standard', problemRoot = root): FlowCheck {
  return checkFlows({
    flowsDir: join(root, 'flows'),
    localesDir: join(root, 'locales'),
    limits: { ...LIMITS },
    spelling,
    root: problemRoot,
  });
}

function checkFixture(name: string, spelling: BambaraSpelling = 'standard'): FlowCheck {
  return checkTree(join(FIXTURES, name), spelling);
}

function errorsOf(check: FlowCheck): Problem[] {
  return check.problems.filter((p) => p.severity === 'error');
}

/** `file:line:col message` of every error, for readable failure diffs. */
function errorLines(check: FlowCheck): string[] {
  return errorsOf(check).map(formatProblem);
}

/**
 * The flows did not compile, and among the errors is one in `file` whose
 * message matches `message`, at `at` (col checked only when given).
 */
function expectError(check: FlowCheck, file: string, message: RegExp, at?: { line: number; col?: number }): void {
  expect(check.flows).toBeUndefined();
  const errors = errorsOf(check);
  expect(errors).toContainEqual(expect.objectContaining({ file, severity: 'error', message: expect.stringMatching(message) }));
  if (at) {
    const places = errors.filter((p) => p.file === file && message.test(p.message)).map((p) => ({ line: p.line, col: p.col }));
    expect(places).toContainEqual(at.col === undefined ? expect.objectContaining({ line: at.line }) : { line: at.line, col: at.col });
  }
}

describe('the valid fixture', () => {
  it('checks with no problem at all and compiles', () => {
    const check = checkFixture('valid');
    expect(check.problems.map(formatProblem)).toEqual([]);
    expect(check.flows).toBeDefined();
    expect(check.flows!.entryFlow).toBe('main');
    expect(check.flows!.home).toBe('main.home');
    expect(check.flows!.languageNode).toBe('main.language');
    expect([...check.flows!.nodes.keys()].sort()).toEqual(['main.bye', 'main.help', 'main.home', 'main.language']);
    // number_kept_days comes from the configuration (PHONE_RETENTION_DAYS, 30 by default), not from variables.yaml.
    expect(check.variables).toEqual({ fr: { hotline: 'le 8080', number_kept_days: '30' }, bm: { hotline: '8080', number_kept_days: '30' } });
    // 4 nodes x (fr, bm standard, bm gsm7)
    expect(check.report).toHaveLength(12);
  });

  it('compiles the spelling the deployment asked for', () => {
    const check = checkFixture('valid', 'gsm7');
    expect(errorLines(check)).toEqual([]);
    expect(check.flows!.texts('bm', 'main:home.title')).toBe('Daminè');
    expect(checkFixture('valid', 'standard').flows!.texts('bm', 'main:home.title')).toBe('Daminɛ');
  });

  it('accepts an end screen of exactly 80 UCS-2 units (end-at-limit)', () => {
    const check = checkFixture('end-at-limit');
    expect(errorLines(check)).toEqual([]);
    expect(check.flows).toBeDefined();
  });
});

describe('YAML layer', () => {
  it('1. reports a syntax error (unclosed flow sequence) at the line and column the YAML parser gives', () => {
    const check = checkFixture('yaml-syntax');
    // The `[` opened on line 18 is still open when `help:` comes back at column 3 on line 20.
    expectError(check, 'flows/main.yaml', /^YAML: Flow sequence .*end with a \]/, { line: 20, col: 3 });
    // The entry flow could not be read, so nothing else can be checked.
    expect(errorLines(check)).toHaveLength(2);
    expectError(check, 'flows', /no entry flow/);
  });

  it('2. reports a duplicate node id at the second key', () => {
    const check = checkFixture('duplicate-key');
    expectError(check, 'flows/main.yaml', /^YAML: Map keys must be unique/, { line: 29, col: 3 });
    expect(errorLines(check)).toHaveLength(2);
  });
});

describe('schema layer', () => {
  it('3a. reports a menu option without `next` at that option', () => {
    const check = checkFixture('schema-missing-next');
    expectError(check, 'flows/main.yaml', /^nodes\.home\.options\.1\.next: .*expected string, received undefined/, { line: 19, col: 9 });
    expect(errorLines(check)).toHaveLength(2); // and "no entry flow"
  });

  it('3b. reports an unknown node type at the type, listing the known ones', () => {
    const check = checkFixture('schema-unknown-type');
    expectError(check, 'flows/main.yaml', /^nodes\.help\.type: Invalid discriminator value.*'menu'.*'end'/, { line: 22, col: 11 });
    expect(errorLines(check)).toHaveLength(2);
  });

  it('3c. reports an unknown key on the node that has it', () => {
    const check = checkFixture('schema-unknown-key');
    // Pointed at the unknown key's value on line 24, not at the node's first line (22).
    expectError(check, 'flows/main.yaml', /^nodes\.help: Unrecognized key: "colour"/, { line: 24, col: 13 });
    expect(errorLines(check)).toHaveLength(2);
  });
});

describe('graph checks', () => {
  it('4. reports a target that does not exist on the line of that `next`', () => {
    const check = checkFixture('missing-target');
    expectError(check, 'flows/main.yaml', /target "main\.helpp" does not exist/, { line: 20, col: 35 });
    expect(errorLines(check)).toHaveLength(1);
  });

  it('5. reports an unreachable node on its line', () => {
    const check = checkFixture('unreachable-node');
    expectError(check, 'flows/main.yaml', /node "main\.orphan" cannot be reached from the entry flow/, { line: 30, col: 5 });
    expect(errorLines(check)).toHaveLength(1);
  });

  it('6. reports a dead end: an info node with no next and nav: false', () => {
    const check = checkFixture('dead-end');
    expectError(check, 'flows/main.yaml', /dead end: node "main\.stuck" has no way forward and no navigation/, { line: 32, col: 5 });
    expect(errorLines(check)).toHaveLength(1);
  });

  it('11. reports two flows with the same id on the second one', () => {
    const check = checkFixture('duplicate-flow-id');
    expectError(check, 'flows/other.yaml', /flow id "main" is already used by flows\/main\.yaml/, { line: 2, col: 5 });
    expect(errorLines(check)).toHaveLength(1);
  });

  it('12. reports an invalid regex in validate.pattern at the pattern', () => {
    const check = checkFixture('invalid-pattern');
    expectError(check, 'flows/main.yaml', /invalid pattern: .*\/\[0-9\/.*Unterminated character class/, { line: 34, col: 34 });
    expect(errorLines(check)).toHaveLength(1);
  });

  it('15. reports a save_report field that no node collects', () => {
    const check = checkFixture('save-report-unknown-field');
    expectError(check, 'flows/main.yaml', /save_report field "code" is never asked/, { line: 26, col: 5 });
    expect(errorLines(check)).toHaveLength(1);
  });
});

describe('texts and variables', () => {
  it('7. reports a text present in fr but missing in bm, naming the Bambara file', () => {
    const check = checkFixture('missing-bm-text');
    expectError(check, 'flows/main.yaml', /text "main:bye\.text" is missing in locales\/bm\/main\.json/, { line: 27, col: 11 });
    expect(errorLines(check)).toHaveLength(1);
  });

  it('7b. reports an engine text (common:nav.more) missing in bm in the Bambara common file', () => {
    const check = checkFixture('missing-bm-common-text');
    expectError(check, 'locales/bm/common.json', /text "common:nav\.more" is missing in locales\/bm\/common\.json/);
    expect(errorLines(check)).toHaveLength(1);
  });

  it('8. reports an unknown {{variable}} in a text, with its language', () => {
    const check = checkFixture('unknown-variable');
    expectError(check, 'flows/main.yaml', /text "main:help\.text" \(fr\) uses unknown variable \{\{numero_vert\}\}/, { line: 23, col: 11 });
    expect(errorLines(check)).toHaveLength(1);
  });

  it('13. reports invalid JSON in a locale file with its position', () => {
    const check = checkFixture('invalid-locale-json');
    // The trailing comma on line 10 is found when `}` comes on line 11.
    expectError(check, 'locales/fr/main.json', /^invalid JSON: .*position \d+/, { line: 11, col: 3 });
    // Every other error follows from it: the French main texts are all missing.
    const others = errorsOf(check).filter((p) => p.file !== 'locales/fr/main.json');
    expect(others.length).toBeGreaterThan(0);
    for (const p of others) expect(p.message).toMatch(/is missing in locales\/fr\/main\.json$/);
  });

  it('14. reports a variable with an empty bm value in variables.yaml', () => {
    const check = checkFixture('variable-empty-bm');
    expectError(check, 'flows/variables.yaml', /variable hotline has no bm value/);
    expect(errorLines(check)).toHaveLength(1);
  });

  it('14 (position). points at the empty bm value, not at the top of variables.yaml', () => {
    const check = checkFixture('variable-empty-bm');
    // `hotline:` is the second variable (line 4); its `bm: ""` is line 6.
    expectError(check, 'flows/variables.yaml', /variable hotline has no bm value/, { line: 6, col: 7 });
  });
});

describe('screen lint', () => {
  it('9a. reports an end screen over 80 UCS-2 units in standard Bambara', () => {
    const check = checkFixture('end-too-long-ucs2');
    expectError(
      check,
      'flows/main.yaml',
      /end screen "main\.bye" \(bm, standard spelling\) is 97 characters in UCS-2, over the 80 limit/,
      { line: 26, col: 5 },
    );
    // Folded to è, the same text is 97 GSM-7 septets, well under 182.
    expect(errorsOf(check).filter((p) => /gsm7 spelling/.test(p.message))).toEqual([]);
    expect(errorLines(check)).toHaveLength(1);
  });

  it.each(['gsm7', 'standard'] as const)(
    '9b. reports an end screen too long only in the standard spelling, even when the deployment shows %s',
    (spelling) => {
      const check = checkFixture('end-too-long-standard-only', spelling);
      expectError(check, 'flows/main.yaml', /end screen "main\.bye" \(bm, standard spelling\) is 81 characters in UCS-2, over the 80 limit/, {
        line: 26,
        col: 5,
      });
      expect(errorLines(check)).toHaveLength(1);
      // The report still covers both spellings.
      const bye = check.report.filter((r) => r.node === 'main.bye' && r.lang === 'bm');
      expect(bye.map((r) => [r.spelling, r.encoding, r.limit])).toEqual([
        ['standard', 'UCS-2', 80],
        ['gsm7', 'GSM-7', 182],
      ]);
    },
  );

  it('10. reports a menu option label too long to fit any screen', () => {
    const check = checkFixture('option-too-long');
    expectError(check, 'flows/main.yaml', /^option "1\. Aide et informations .* fin" of "main\.home" \(fr\) does not fit a screen/, {
      line: 15,
      col: 5,
    });
    // Only in French: the Bambara label is short.
    expect(errorsOf(check).filter((p) => /\(bm/.test(p.message))).toEqual([]);
  });
});

describe('paths in problems', () => {
  it('are relative to `root`, in the messages too', () => {
    const root = REPO;
    const check = checkTree(join(FIXTURES, 'missing-bm-text'), 'standard', root);
    const base = 'test/fixtures/flows/missing-bm-text';
    expectError(check, `${base}/flows/main.yaml`, /text "main:bye\.text" is missing/, { line: 27, col: 11 });
    expectError(check, `${base}/flows/main.yaml`, new RegExp(`is missing in ${base}/locales/bm/main\\.json`));
  });
});

describe('what callers are told stays true (issue 13)', () => {
  const real = (options: { production?: boolean; numberKeptDays?: number }) =>
    checkFlows({ flowsDir: join(REPO, 'flows'), localesDir: join(REPO, 'locales'), limits: { ...LIMITS }, spelling: 'standard', root: REPO, ...options });

  it('refuses, in production, a short code still at its sample value; warns elsewhere', () => {
    const production = real({ production: true });
    expect(production.flows).toBeUndefined();
    expect(errorLines(production)).toEqual([
      expect.stringMatching(/^flows\/variables\.yaml:\d+:\d+ variable ussd_code \(fr\) still holds its sample value "\*384\*123#"/),
      expect.stringMatching(/^flows\/variables\.yaml:\d+:\d+ variable ussd_code \(bm\) still holds its sample value/),
    ]);
    const development = real({});
    expect(development.flows).toBeDefined();
    expect(development.problems.filter((p) => p.severity === 'warning' && /sample value/.test(p.message))).toHaveLength(2);
  });

  it('tells callers the retention the deployment really has (PHONE_RETENTION_DAYS)', () => {
    const flows = real({ numberKeptDays: 90 }).flows!;
    expect(flows.texts('fr', 'report:privacy.text')).toContain('gardé chiffré 90 jours');
    expect(flows.texts('bm', 'report:privacy.text')).toContain('tile 90');
    expect(real({}).flows!.texts('fr', 'report:privacy.text')).toContain('gardé chiffré 30 jours');
  });
});

describe('the real flows', () => {
  const check = checkTree(REPO);

  /** `flow.node` for every node in flows/*.yaml, read independently of the loader. */
  function nodeIdsInYaml(): string[] {
    const dir = join(REPO, 'flows');
    const ids: string[] = [];
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml') && !['variables.yaml', 'keywords.yaml', 'terminology.yaml'].includes(f))) {
      const flow = parse(readFileSync(join(dir, name), 'utf8')) as { id?: string; nodes?: Record<string, unknown> };
      // Files that are not flows (triage.yaml) have no nodes.
      if (!flow.id || !flow.nodes) continue;
      for (const node of Object.keys(flow.nodes)) ids.push(`${flow.id}.${node}`);
    }
    return ids.sort();
  }

  it('check with zero errors and compile', () => {
    expect(errorLines(check)).toEqual([]);
    expect(check.flows).toBeDefined();
    expect([...check.flows!.nodes.keys()].sort()).toEqual(nodeIdsInYaml());
  });

  it('have a report row for every node the caller can see, in fr, bm standard and bm gsm7', () => {
    // Lookup and branch nodes are never shown: the shell answers a lookup, a branch goes straight on.
    const lookups = [...check.flows!.nodes.values()].filter((n) => n.kind === 'lookup' || n.kind === 'branch').map((n) => n.id);
    expect(lookups).toEqual(['callback.check', 'report.filed', 'stations.voter_list', 'stations.nina_lookup', 'stations.centre_lookup']);
    const ids = nodeIdsInYaml().filter((id) => !lookups.includes(id));
    expect(ids.length).toBeGreaterThan(10);
    for (const [lang, spelling] of [
      ['fr', '-'],
      ['bm', 'standard'],
      ['bm', 'gsm7'],
    ] as const) {
      const rows = check.report.filter((r) => r.lang === lang && r.spelling === spelling);
      expect(rows.map((r) => r.node).sort()).toEqual(ids);
    }
    expect(check.report).toHaveLength(ids.length * 3);
  });

  it('fit every screen: longest <= limit, and the limit is the one for the encoding', () => {
    expect(check.report.length).toBeGreaterThan(0);
    for (const row of check.report) {
      expect({ node: row.node, lang: row.lang, spelling: row.spelling, ok: row.longest <= row.limit }).toEqual({
        node: row.node,
        lang: row.lang,
        spelling: row.spelling,
        ok: true,
      });
      expect(row.limit).toBe(row.encoding === 'GSM-7' ? LIMITS.gsm7 : LIMITS.ucs2);
      expect(row.pages).toBeGreaterThanOrEqual(1);
      expect(row.longest).toBeGreaterThan(0);
    }
    // Standard Bambara is UCS-2 throughout (ɛ, ɔ, ɲ); the phone spelling mostly is not.
    expect(check.report.filter((r) => r.spelling === 'standard').every((r) => r.encoding === 'UCS-2')).toBe(true);
    expect(check.report.some((r) => r.spelling === 'gsm7' && r.encoding === 'GSM-7')).toBe(true);
  });

  it("warn that Bambara texts await a native speaker's review", () => {
    const warnings = check.problems.filter((p) => p.severity === 'warning' && /Bamanankan texts await a native speaker's review/.test(p.message));
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) {
      expect(w.file).toMatch(/^locales\/bm\/[a-z]+\.json$/);
      expect(w.message).toMatch(/^\d+ of \d+ Bamanankan texts await a native speaker's review$/);
    }
  });
});

describe('branch nodes (go on by an earlier answer)', () => {
  /** The valid fixture with home's "bye" option replaced by a choice and a branch made of `branch`. */
  function withBranch(branch: string): FlowCheck {
    const root = mkdtempSync(join(tmpdir(), 'kalata-branch-'));
    cpSync(join(FIXTURES, 'valid'), root, { recursive: true });
    const file = join(root, 'flows', 'main.yaml');
    const yaml = readFileSync(file, 'utf8').replace('- { label: home.bye, next: bye }', '- { label: home.bye, next: mood }');
    writeFileSync(
      file,
      `${yaml}\n\n  mood:\n    type: choice\n    text: home.title\n    save: mood\n    items:\n      - { value: stay, label: home.help }\n      - { value: leave, label: home.bye, private: true }\n    next: route\n\n  route:\n${branch}\n`,
    );
    return checkTree(root);
  }

  it('compiles one that names values the choice gives, and the engine passes through it', () => {
    const check = withBranch('    type: branch\n    on: mood\n    cases: { stay: help, leave: bye }\n    otherwise: bye');
    expect(errorLines(check)).toEqual([]);
    const flows = check.flows!;
    expect(flows.privateAnswers).toEqual(new Map([['mood', new Set(['leave'])]]));
    let r = start(flows, { id: 's', ref: 'KA-1', lang: 'fr', languageKnown: true }, 0);
    r = step(flows, step(flows, r.session, '2', 0).session, '1', 0);
    expect(r.session.node).toBe('main.help');
    expect(r.events).toContainEqual({ type: 'entered', node: 'main.route' });
    // back from where the branch led goes to the choice, not to the branch
    expect(step(flows, r.session, '0', 0).session.node).toBe('main.mood');
  });

  it('refuses a value no choice gives, a field no choice saves, and a branch to a branch', () => {
    expectError(withBranch('    type: branch\n    on: mood\n    cases: { stay: help, stya: bye }\n    otherwise: bye'), 'flows/main.yaml', /branch "main\.route": no choice saving "mood" has the value "stya" \(known: stay, leave\)/);
    expectError(withBranch('    type: branch\n    on: nothing\n    cases: { stay: help }\n    otherwise: bye'), 'flows/main.yaml', /branch "main\.route" goes by "nothing", which no choice saves/);
    expectError(withBranch('    type: branch\n    on: mood\n    cases: { stay: help }\n    otherwise: route'), 'flows/main.yaml', /branch "main\.route" leads to another branch "main\.route"/);
  });
});

describe('call-back requests (request_callback)', () => {
  /**
   * The valid fixture with home's "bye" option leading to a topic choice, a
   * name input and a check of open requests, then `node` (a node made of
   * `body`, with the effect on it) ending the call.
   */
  function withCallback(body: string, extra = ''): FlowCheck {
    const root = mkdtempSync(join(tmpdir(), 'kalata-callback-'));
    cpSync(join(FIXTURES, 'valid'), root, { recursive: true });
    const file = join(root, 'flows', 'main.yaml');
    const yaml = readFileSync(file, 'utf8').replace('- { label: home.bye, next: bye }', '- { label: home.bye, next: open }');
    writeFileSync(
      file,
      `${yaml}\n\n  open:\n    type: lookup\n    source: callback_open\n    found: bye\n    not_found: topic\n\n  topic:\n    type: choice\n    text: home.title\n    save: topic\n    items:\n      - { value: voter, label: home.help }\n      - { value: other, label: home.bye }\n    next: name\n\n  name:\n    type: input\n    text: home.title\n    save: name\n    validate: { max: 20 }\n    error: home.title\n    next: asked\n\n  asked:\n${body}\n${extra}`,
    );
    return checkTree(root);
  }

  it('compiles one on an end node, with a choice as its topic, and the engine emits it with the choice value only', () => {
    const check = withCallback('    type: end\n    text: bye.text\n    effects:\n      - request_callback: { topic: topic }');
    expect(errorLines(check)).toEqual([]);
    const flows = check.flows!;
    expect(flows.nodes.get('main.asked')!.effects).toEqual([{ type: 'request_callback', topic: 'topic' }]);
    // The lookup of open requests is the runtime's: here, none.
    let r = start(flows, { id: 's', ref: 'KA-1', lang: 'bm', languageKnown: true }, 0);
    r = step(flows, r.session, '2', 0);
    expect(r.lookup).toMatchObject({ source: 'callback_open', params: {} });
  });

  it('refuses one on a node that is not an end, twice on a node, and a topic no choice gives (or typed text)', () => {
    expectError(
      withCallback('    type: info\n    text: bye.text\n    next: bye\n    effects:\n      - request_callback: {}'),
      'flows/main.yaml',
      /request_callback on "main\.asked": only an end node may ask for a call-back/,
    );
    expectError(
      withCallback('    type: end\n    text: bye.text\n    effects:\n      - request_callback: {}\n      - request_callback: { topic: topic }'),
      'flows/main.yaml',
      /request_callback on "main\.asked": one request per node/,
    );
    expectError(withCallback('    type: end\n    text: bye.text\n    effects:\n      - request_callback: { topic: name }'), 'flows/main.yaml', /request_callback topic "name" is no choice's answer \(it is typed on an input/);
    expectError(withCallback('    type: end\n    text: bye.text\n    effects:\n      - request_callback: { topic: mood }'), 'flows/main.yaml', /request_callback topic "mood" is no choice's answer/);
    // An unknown key in the effect is the schema's to refuse.
    expect(errorLines(withCallback('    type: end\n    text: bye.text\n    effects:\n      - request_callback: { when: today }'))).not.toEqual([]);
  });
});
