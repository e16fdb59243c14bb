/**
 * Reference (e): bare Express plus one Redis GET and one SET of a session per
 * request, the second reference point ("Express + one Redis GET/SET of
 * a session"). It says what a single round trip to Redis costs on this
 * machine, against which Kalata's whole turn can be read.
 *
 *   PORT=4102 REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/servers/express-redis.ts
 */
import express from 'express';
import { Redis } from 'ioredis';

const port = Number(process.env.PORT ?? 4102);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
const app = express();
app.disable('x-powered-by');
app.post('/ussd', express.urlencoded({ extended: false }), async (req, res) => {
  const body = req.body as Record<string, unknown>;
  const key = `bench:express-redis:${String(body.sessionId ?? '')}`;
  const steps = Number((await redis.get(key)) ?? 0) + 1;
  await redis.set(key, String(steps), 'EX', 300);
  res.type('text/plain').send(`CON Kalata. Langue / Kan:\n1. Français\n2. Bamanankan\n(${steps})`);
});
app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
