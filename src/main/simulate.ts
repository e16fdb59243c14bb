/**
 * `npm run simulate -- [--lang fr|bm] [--flow ID] [inputs…]`: a phone in the
 * terminal, running the real engine on the flows on disk. With inputs as
 * arguments it prints the whole conversation and exits (for scripts);
 * without, it asks for each input. Lookups (polling stations) read the
 * database the server uses (DATABASE_URL, or the embedded one in DATA_DIR),
 * opened on the first lookup.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { start, step } from '../engine/step.js';
import type { Lang, StepResult } from '../engine/types.js';
import { flowOptions, loadFlows } from '../flows/flow-set.js';
import { mintReference } from '../runtime/reference.js';
import { settle, type Lookup } from '../runtime/lookups.js';
import { createLogger } from '../logger.js';
import { loadSecrets } from '../privacy/secrets.js';
import { createStationLookups } from '../stations/station-lookups.js';
import { DatabaseBusyError, openConfiguredDatabase, migrateToLatest, type Db } from '../store/database.js';
import { join } from 'node:path';
import { runMain, UsageError } from './run-main.js';

function show(result: StepResult): void {
  const { screen } = result;
  const border = '─'.repeat(32);
  console.log(`┌${border}┐ ${screen.end ? 'END' : 'CON'} · ${screen.length} ${screen.encoding}`);
  for (const line of screen.text.split('\n')) console.log(`│ ${line}`);
  console.log(`└${border}┘`);
  for (const effect of result.effects) console.log(`  effect: ${JSON.stringify(effect)}`);
}

runMain(async () => {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { lang: { type: 'string' }, flow: { type: 'string' } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; usage: npm run simulate -- [--lang CODE] [--flow ID] [inputs...]`);
  }
  const { values, positionals } = parsed;
  const config = loadConfig();
  const flows = loadFlows(flowOptions(config));
  if (values.lang !== undefined && !flows.languages.includes(values.lang)) throw new UsageError(`--lang is one of ${flows.languages.join(', ')}`);
  if (values.flow !== undefined && !flows.starts.has(values.flow)) {
    throw new UsageError(`no flow "${values.flow}"; flows: ${[...flows.starts.keys()].join(', ')}`);
  }
  const lang = (values.lang as Lang | undefined) ?? config.defaultLanguage;
  let db: Db | undefined;
  let stations: Lookup | undefined;
  let unavailable = false;
  const lookup: Lookup = async (request) => {
    // A terminal is no caller's phone: no call-back request is open for it.
    if (request.source === 'callback_open') return { kind: 'not_found' };
    if (unavailable) return { kind: 'failed' };
    if (!stations) {
      try {
        db = await openConfiguredDatabase(config);
      } catch (err) {
        if (!(err instanceof DatabaseBusyError)) throw err;
        // Said once, plainly: the call then shows the hotline's apology, as a real one would.
        unavailable = true;
        console.error(`kalata: polling-station lookups unavailable: ${err.message}`);
        return { kind: 'failed' };
      }
      await migrateToLatest(db);
      stations = createStationLookups({ db, ninaKey: loadSecrets(config).phoneHashKey, logger: createLogger('warn') });
    }
    return stations(request);
  };
  const run = (first: StepResult) => settle(flows, first, lookup, Date.now());
  let result = await run(
    start(
      flows,
      { id: randomUUID(), ref: mintReference(), lang, languageKnown: values.lang !== undefined, ...(values.flow ? { flow: values.flow } : {}) },
      Date.now(),
    ),
  );
  show(result);
  if (positionals.length > 0) {
    for (const input of positionals) {
      if (result.session.ended) break;
      console.log(`> ${input}`);
      result = await run(step(flows, result.session, input, Date.now()));
      show(result);
    }
    await db?.destroy();
    return;
  }
  // Lines are read as they come, so input piped in all at once is not lost.
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const interactive = Boolean(process.stdin.isTTY);
  rl.setPrompt('> ');
  if (interactive) rl.prompt();
  for await (const line of rl) {
    if (!interactive) console.log(`> ${line}`);
    result = await run(step(flows, result.session, line, Date.now()));
    show(result);
    if (result.session.ended) break;
    if (interactive) rl.prompt();
  }
  rl.close();
  await db?.destroy();
  if (!result.session.ended) console.log('');
});
