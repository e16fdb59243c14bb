/**
 * `npm run flows:check`: validates every flow and locale, prints each problem
 * as `file:line:col message`, a per-screen report and the pages each screen
 * takes in each language and spelling; exits 1 on any error.
 */
import { loadConfig } from '../config/config.js';
import { checkFlows, flowOptions } from '../flows/flow-set.js';
import { formatPagesReport, formatScreenReport } from '../flows/screen-report.js';
import { formatProblem, hasErrors } from '../flows/problems.js';
import { runMain } from './run-main.js';

runMain(() => {
  const config = loadConfig();
  const check = checkFlows(flowOptions(config));
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
  for (const p of check.problems) console.log(formatProblem(p));
  const errors = check.problems.filter((p) => p.severity === 'error').length;
  const warnings = check.problems.length - errors;
  console.log(`${errors} error(s), ${warnings} warning(s)`);
  if (hasErrors(check.problems)) process.exitCode = 1;
});
