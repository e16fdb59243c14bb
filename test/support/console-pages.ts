/**
 * What every browser test of the console checks on a page: the problems the
 * page reports (CSP violations, console errors, uncaught errors), and the
 * stored codes, template keys or English that reach the visible text.
 */
import type { Page } from 'playwright-core';

/**
 * Stored codes that must never reach an operator's eyes, matched as whole
 * words (a code like `sent` is left out: it is also a French word in
 * « absent »… and the scan would only find false alarms).
 */
export const RAW_CODES = [
  // call outcomes and languages
  'completed',
  'too_many_invalid',
  'abandoned',
  ' fr ',
  ' bm ',
  // SMS statuses, delivery statuses and kinds
  'pending',
  'queued',
  'retrying',
  'dry_run',
  'dry-run',
  'opted_out',
  'Success',
  'Rejected',
  'Expired',
  'Submitted',
  'Buffered',
  'followup',
  'status_update',
  'optout_ack',
  // report codes: types, regions, statuses, contact choices
  'vote_buying',
  // call-back statuses and outcomes
  'waiting',
  'claimed',
  'no_answer',
  'wrong_number',
  'reached',
  'expired',
  'callback_topic',
  'callback:',
  'reveal_callback_number',
  'bamako',
  'verifying',
  'dismissed',
  'escalated',
  'no_sms',
  'no_number',
  // template keys and node ids
  'report:sms',
  'sms:',
  'main.home',
  'main.language',
  'vote.menu',
  'report.submitted',
  'where_to_check',
  // English the console once showed
  'not allowed for your role',
  'no such',
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A code as a whole word: ` fr ` keeps its spaces; the others touch no letter, digit, `_`, `.` or `:` (a prefix like `sms:` only at its start). */
export const pattern = (code: string) =>
  code.startsWith(' ') ? new RegExp(escape(code)) : new RegExp(`(?<![\\p{L}\\p{N}_.:-])${escape(code)}${/\w$/.test(code) ? '(?![\\p{L}\\p{N}_-])' : ''}`, 'u');

/** Collects what goes wrong on a page from now on: read the array after each visit, empty it before the next. */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

/** The text a person sees, without the places a code is shown on purpose. */
export async function visibleText(p: Page): Promise<string> {
  return (await p.evaluate(`(() => {
    const body = document.body.cloneNode(true);
    for (const el of body.querySelectorAll('code, script, #sim-screen, #sim-meta, #sim-effects')) el.remove();
    // A detached clone has no layout: innerText on it reads like textContent, so put it back for a moment.
    const box = document.createElement('div');
    box.setAttribute('hidden', '');
    document.body.appendChild(box);
    box.appendChild(body);
    box.removeAttribute('hidden');
    // {{placeholders}} in texts to review are shown on purpose: the reviewer must keep them.
    const text = body.innerText.replace(/\{\{[^}]*\}\}/g, '{{…}}');
    box.remove();
    return text;
  })()`)) as string;
}

/** The raw codes in a page's visible text, each with the words around it. */
export async function rawCodesIn(page: Page): Promise<string[]> {
  const text = await visibleText(page);
  return RAW_CODES.filter((code) => pattern(code).test(text)).map((code) => {
    const i = text.search(pattern(code));
    return `"${code.trim()}" in « ${text.slice(Math.max(0, i - 40), i + code.length + 40).replace(/\s+/g, ' ')} »`;
  });
}

/** Signs in through the login form, as a person does. */
export async function signIn(page: Page, base: string, name: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button:has-text("Se connecter")')]);
}
