/** `npm run migrate`: brings the database schema up to date and exits. */
import { join } from 'node:path';
import { loadConfig } from '../config/config.js';
import { openConfiguredDatabase, migrateToLatest } from '../store/database.js';
import { runMain } from './run-main.js';

runMain(async () => {
  const config = loadConfig();
  const db = await openConfiguredDatabase(config);
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  } finally {
    await db.destroy();
  }
});
