/** `npm start`: the whole hotline on embedded defaults (PGlite, a private redis-server). */
import { runMain } from './run-main.js';
import { serveWeb } from './serve.js';

runMain(serveWeb);
