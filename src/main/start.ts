/** `npm start`: the whole hotline (web and SMS worker) on embedded defaults (PGlite, a private redis-server). */
import { runMain } from './run-main.js';
import { serveWeb } from './serve.js';

runMain(() => serveWeb({ worker: true }));
