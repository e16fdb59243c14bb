/**
 * Keywords citizens text to the hotline, edited by admins in
 * `flows/keywords.yaml`. Matching ignores case, accents and the Bambara
 * letters' spelling (DƐMƐ, Dèmè and DEME are the same word).
 */
import { foldToGsm7 } from '../i18n/bambara-spelling.js';

export const KEYWORD_ACTIONS = ['help', 'status', 'stop', 'start', 'station'] as const;
export type KeywordAction = (typeof KEYWORD_ACTIONS)[number];

export type KeywordTable = Readonly<Record<KeywordAction, readonly string[]>>;

/** Uppercase ASCII letters and digits, the way people type on a basic phone. */
export function foldKeyword(word: string): string {
  return foldToGsm7(word.normalize('NFC'))
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '');
}

export interface KeywordMatch {
  action: KeywordAction | 'other';
  /** the first word as typed, folded */
  word: string;
  /** what follows the first word, trimmed */
  argument: string;
}

/** A compiled matcher: O(1) per message. */
export function createKeywordMatcher(table: KeywordTable): (text: string) => KeywordMatch {
  const byWord = new Map<string, KeywordAction>();
  for (const action of KEYWORD_ACTIONS) for (const w of table[action]) byWord.set(foldKeyword(w), action);
  return (text) => {
    const trimmed = text.trim();
    const [first = '', ...rest] = trimmed.split(/\s+/);
    const word = foldKeyword(first);
    return { action: byWord.get(word) ?? 'other', word, argument: rest.join(' ') };
  };
}
