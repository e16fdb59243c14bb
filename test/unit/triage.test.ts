/** Triage's pure parts: a report's priority from its type or by hand, the file's checks, and the words shown for each history line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { currentTriage, NO_TRIAGE, parseTriageFile, priorityOf, triageProblems } from '../../src/flows/triage.js';
import type { Problem } from '../../src/flows/problems.js';
import { problemMessage, reportEventDetail } from '../../src/web/console/labels.js';
import { atTime } from '../../src/web/console/reports-routes.js';

const triage = { urgent: ['intimidation'], low: ['other'] };

describe('priorityOf', () => {
  it('takes the type’s priority unless one was set by hand', () => {
    expect(priorityOf(triage, 'intimidation')).toBe('urgent');
    expect(priorityOf(triage, 'other')).toBe('low');
    expect(priorityOf(triage, 'vote_buying')).toBe('normal');
    expect(priorityOf(triage, null)).toBe('normal');
    expect(priorityOf(triage, 'intimidation', 'low')).toBe('low');
    expect(priorityOf(triage, 'vote_buying', 'urgent')).toBe('urgent');
    expect(priorityOf(triage, 'vote_buying', 'bogus')).toBe('normal');
    expect(priorityOf(NO_TRIAGE, 'intimidation')).toBe('normal');
  });
});

describe('flows/triage.yaml', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'kalata-triage-unit-'));
  it('reports unknown codes and duplicates where they are written', () => {
    const d = dir();
    writeFileSync(join(d, 'triage.yaml'), 'urgent:\n  - intimidation\n  - violence\nlow: [intimidation]\n');
    const problems: Problem[] = [];
    const parsed = parseTriageFile(d, problems, d)!;
    expect(problems).toEqual([]);
    expect(triageProblems(parsed, new Set(['intimidation', 'other']))).toEqual([
      { file: 'triage.yaml', line: 3, col: 5, severity: 'error', message: 'triage: urgent "violence" is not an incident type of the flows (intimidation, other)' },
      { file: 'triage.yaml', line: 4, col: 7, severity: 'error', message: 'triage: "intimidation" is listed twice (urgent and low)' },
    ]);
  });
  it('reports an unknown key and a malformed code as schema errors; a missing file is no triage', () => {
    const d = dir();
    expect(parseTriageFile(d, [], d)).toBeUndefined();
    expect(currentTriage(d)).toBe(NO_TRIAGE);
    writeFileSync(join(d, 'triage.yaml'), 'urgent: [Violence]\nurgnet: []\n');
    const problems: Problem[] = [];
    parseTriageFile(d, problems, d);
    expect(problems.map((p) => `${p.line}:${p.col}`)).toEqual(expect.arrayContaining(['1:10', '2:9']));
  });
  it('the console reads the file again when it changes, and keeps the last good one when it breaks', () => {
    const d = dir();
    writeFileSync(join(d, 'triage.yaml'), 'urgent: [intimidation]\n');
    expect(currentTriage(d).urgent).toEqual(['intimidation']);
    writeFileSync(join(d, 'triage.yaml'), 'urgent: [intimidation, card_sale]\n');
    expect(currentTriage(d).urgent).toEqual(['intimidation', 'card_sale']);
    writeFileSync(join(d, 'triage.yaml'), 'urgent: [intimidation\n');
    expect(currentTriage(d).urgent).toEqual(['intimidation', 'card_sale']);
  });
});

describe('words', () => {
  it('says what each history line changed, without codes', () => {
    expect(reportEventDetail({ kind: 'status', from_status: 'new', to_status: 'verifying', detail: null })).toBe('Nouveau → En vérification');
    expect(reportEventDetail({ kind: 'priority', from_status: null, to_status: null, detail: 'auto -> urgent' })).toBe('automatique → Urgente');
    expect(reportEventDetail({ kind: 'takeover', from_status: null, to_status: null, detail: 'awa' })).toBe('à awa');
    expect(reportEventDetail({ kind: 'release', from_status: null, to_status: null, detail: 'final' })).toBe('fin de la prise en charge : statut final');
    expect(problemMessage('triage: urgent "violence" is not an incident type of the flows (intimidation, other)')).toBe('tri : le type "violence" (urgents) n’est pas un type d’incident des menus (types : intimidation, other)');
  });
  it('says when a claim began: the time today, the day before', () => {
    const now = new Date('2026-12-01T21:50:00Z');
    expect(atTime(new Date('2026-12-01T21:40:00Z'), now)).toBe('à 21:40');
    expect(atTime(new Date('2026-11-30T21:40:00Z'), now)).toBe('le 30/11 à 21:40');
  });
});
