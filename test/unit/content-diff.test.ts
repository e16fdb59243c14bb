import { describe, expect, it } from '@jest/globals';
import { diffContent } from '../../src/content/content-diff.js';

describe('diffContent', () => {
  const before = { 'flows/main.yaml': 'id: main\nstart: a\nnodes:\n  a:\n    type: info\n', 'locales/fr/main.json': '{\n  "a": "un"\n}\n' };

  it('lists only the files that changed, with the lines added and removed and their numbers', () => {
    const after = { ...before, 'locales/fr/main.json': '{\n  "a": "deux"\n}\n' };
    const diffs = diffContent(before, after);
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatchObject({ file: 'locales/fr/main.json', change: 'changed', added: 1, removed: 1 });
    expect(diffs[0]!.hunks[0]).toEqual([
      { kind: 'same', text: '{', line: 1 },
      { kind: 'removed', text: '  "a": "un"', line: 2 },
      { kind: 'added', text: '  "a": "deux"', line: 2 },
      { kind: 'same', text: '}', line: 3 },
    ]);
  });

  it('names files added and removed', () => {
    const after = { 'flows/main.yaml': before['flows/main.yaml'], 'flows/extra.yaml': 'id: extra\n' };
    expect(diffContent(before, after).map((d) => [d.file, d.change, d.added, d.removed])).toEqual([
      ['flows/extra.yaml', 'added', 1, 0],
      ['locales/fr/main.json', 'removed', 0, 3],
    ]);
  });

  it('is empty for the same content', () => {
    expect(diffContent(before, { ...before })).toEqual([]);
  });

  it('leaves out the patch format’s note about a missing final newline', () => {
    const diffs = diffContent({ 'flows/a.yaml': 'a: 1' }, { 'flows/a.yaml': 'a: 2' });
    expect(diffs[0]!.hunks[0]!.map((l) => l.kind)).toEqual(['removed', 'added']);
  });
});
