/** `npm run start:web`: the web role alone, for several processes behind a load balancer. */
import { runMain } from './run-main.js';
import { serveWeb } from './serve.js';

runMain(() => serveWeb({ worker: false }));
