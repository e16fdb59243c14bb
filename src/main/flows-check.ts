/**
 * `npm run flows:check`: validates every flow and locale, prints each problem
 * as `file:line:col message`, a per-screen report, the pages each screen
 * takes in each language and spelling, and the review state of every string
 * a caller can see (texts, variables, keywords) in each language under
 * review; exits 1 on any error.
 */
import { relative } from 'node:path';
import { loadConfig } from '../config/config.js';
import { checkFlows, flowOptions } from '../flows/flow-set.js';
import { formatPagesReport, formatScreenReport } from '../flows/screen-report.js';
import { formatProblem, hasErrors } from '../flows/problems.js';
import { loadReview, reviewCounts, reviewSources, withReviewWarnings, type ReviewEntry } from '../i18n/review.js';
import { runMain } from './run-main.js';

/** One line per string: id, state, and who signed it off when. */
function formatReviewReport(entries: readonly ReviewEntry[]): string {
  const width = Math.max(...entries.map((e) => e.id.length), 10);
  return entries
    .map((e) => {
      const who = e.state === 'draft' ? '' : e.by ? ` ${e.by} ${e.at?.slice(0, 10) ?? ''}` : ' (legacy $review list, no name)';
      return `${e.id.padEnd(width)}  ${e.state.padEnd(8)}${who}`.trimEnd();
    })
    .join('\n');
}

/** `texts 3 reviewed, 130 draft, 7 changed (of 140); variables …; keywords …` */
function formatReviewCounts(entries: readonly ReviewEntry[]): string {
  const counts = reviewCounts(entries);
  const part = (label: string, c: (typeof counts)['all']) => `${label} ${c.reviewed} reviewed, ${c.draft} draft, ${c.changed} changed (of ${c.total})`;
  return [part('texts', counts.text), part('variables', counts.variable), part('keywords', counts.keyword), part('all', counts.all)].join('; ');
}

runMain(() => {
  const config = loadConfig();
  const options = flowOptions(config);
  const check = checkFlows(options);
  const sources = reviewSources(options);
  const review = loadReview(sources);
  if (check.report.length) {
    console.log(`Screens (limits: ${config.limits.gsm7} GSM-7, ${config.limits.ucs2} UCS-2):`);
    console.log(formatScreenReport(check.report));
    console.log('');
    console.log(formatPagesReport(check.report));
    console.log('');
  }
  if (check.smsReport.length) {
    console.log('SMS templates (160/153 GSM-7, 70/67 UCS-2 per segment):');
    for (const r of check.smsReport) {
      console.log(`${r.key.padEnd(28)} ${r.lang}${r.spelling === '-' ? '         ' : ` ${r.spelling.padEnd(8)}`} ${r.segments} segment(s)  ${String(r.characters).padStart(3)} chars ${r.encoding}`);
    }
    console.log('');
  }
  for (const language of review.languages) {
    const entries = review.entries.filter((e) => e.language === language.code);
    if (!entries.length) continue;
    console.log(`${language.name} review (${language.code}; sign-offs in ${relative(process.cwd(), sources.ledgerFile)}):`);
    console.log(formatReviewReport(entries));
    console.log(`Review (${language.code}): ${formatReviewCounts(entries)}`);
    console.log('');
  }
  const problems = [...withReviewWarnings(check.problems, review), ...review.problems];
  for (const p of problems) console.log(formatProblem(p));
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  console.log(`${errors} error(s), ${warnings} warning(s)`);
  if (hasErrors(problems)) process.exitCode = 1;
});
