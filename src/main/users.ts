/**
 * `npm run users -- add NAME --role operator|admin` (password from stdin or
 * KALATA_PASSWORD), `users list`, `users disable NAME`, `users enable NAME`.
 * Runs the migrations first, so it works on a fresh database. At a terminal
 * the password is asked twice and not shown as it is typed.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { openConfiguredDatabase, migrateToLatest } from '../store/database.js';
import { AccountError, addUser, checkNewName, checkNewPassword, listUsers, ROLES, setDisabled, type Role } from '../store/user-store.js';
import { runMain, UsageError } from './run-main.js';

const USAGE = 'usage: npm run users -- add NAME --role operator|admin | list | disable NAME | enable NAME';

/**
 * One line read from the terminal without echo: readline writes through a
 * stream that drops everything while the answer is typed.
 */
async function askHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  rl.on('SIGINT', () => {
    rl.close();
    process.stderr.write('\n');
    process.exit(130);
  });
  try {
    process.stderr.write(question);
    muted = true;
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    muted = false;
    rl.close();
    process.stderr.write('\n');
  }
}

/** At a terminal: asked twice, hidden, checked against the password rules before the confirmation. */
async function readPassword(): Promise<string> {
  if (process.env.KALATA_PASSWORD) return process.env.KALATA_PASSWORD;
  if (!process.stdin.isTTY) {
    let input = '';
    for await (const chunk of process.stdin) input += String(chunk);
    return input.split('\n')[0]!.trim();
  }
  for (let tries = 0; tries < 3; tries++) {
    const password = await askHidden('password (at least 12 characters, not shown): ');
    try {
      checkNewPassword(password);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      continue;
    }
    if ((await askHidden('the same password again: ')) === password) return password;
    process.stderr.write('the two passwords differ\n');
  }
  throw new UsageError('no password given');
}

runMain(async () => {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { role: { type: 'string' } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; ${USAGE}`);
  }
  const [command, name] = parsed.positionals;
  if (!command || !['add', 'list', 'disable', 'enable'].includes(command)) throw new UsageError(USAGE);
  const config = loadConfig();
  const db = await openConfiguredDatabase(config);
  try {
    await migrateToLatest(db);
    if (command === 'list') {
      for (const u of await listUsers(db)) console.log(`${u.name}\t${u.role}${u.disabled_at ? '\tdisabled' : ''}`);
      return;
    }
    if (!name) throw new UsageError(USAGE);
    try {
      if (command === 'disable' || command === 'enable') {
        await setDisabled(db, { name }, command === 'disable');
        console.log(`${name} ${command}d`);
        return;
      }
      const role = parsed.values.role as Role | undefined;
      if (!role || !ROLES.includes(role)) throw new UsageError(`--role is operator or admin; ${USAGE}`);
      checkNewName(name);
      await addUser(db, name, role, await readPassword());
      console.log(`${name} added (${role})`);
    } catch (err) {
      if (err instanceof AccountError) throw new UsageError(err.message);
      throw err;
    }
  } finally {
    await db.destroy();
  }
});
