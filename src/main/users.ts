/**
 * `npm run users -- add NAME --role operator|admin` (password from stdin or
 * KALATA_PASSWORD), `users list`, `users disable NAME`. Runs the migrations
 * first, so it works on a fresh database.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { openConfiguredDatabase, migrateToLatest } from '../store/database.js';
import { addUser, disableUser, listUsers, ROLES, type Role } from '../store/user-store.js';
import { runMain, UsageError } from './run-main.js';

const USAGE = 'usage: npm run users -- add NAME --role operator|admin | list | disable NAME';

async function readPassword(): Promise<string> {
  if (process.env.KALATA_PASSWORD) return process.env.KALATA_PASSWORD;
  if (process.stdin.isTTY) process.stderr.write('password: ');
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  return input.split('\n')[0]!.trim();
}

runMain(async () => {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { role: { type: 'string' } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; ${USAGE}`);
  }
  const [command, name] = parsed.positionals;
  if (!command || !['add', 'list', 'disable'].includes(command)) throw new UsageError(USAGE);
  const config = loadConfig();
  const db = await openConfiguredDatabase(config);
  try {
    await migrateToLatest(db);
    if (command === 'list') {
      for (const u of await listUsers(db)) console.log(`${u.name}\t${u.role}${u.disabled ? '\tdisabled' : ''}`);
      return;
    }
    if (!name) throw new UsageError(USAGE);
    if (command === 'disable') {
      if (!(await disableUser(db, name))) throw new UsageError(`no user ${name}`);
      console.log(`${name} disabled`);
      return;
    }
    const role = parsed.values.role as Role | undefined;
    if (!role || !ROLES.includes(role)) throw new UsageError(`--role is operator or admin; ${USAGE}`);
    const password = await readPassword();
    try {
      await addUser(db, name, role, password);
    } catch (err) {
      throw new UsageError((err as Error).message.includes('unique') ? `user ${name} exists already` : (err as Error).message);
    }
    console.log(`${name} added (${role})`);
  } finally {
    await db.destroy();
  }
});
