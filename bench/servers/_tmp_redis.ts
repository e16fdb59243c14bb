import express from 'express';
import { Redis } from 'ioredis';
const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: process.env.AP === '1' });
const app = express();
app.disable('x-powered-by');
app.post('/ussd', express.urlencoded({ extended: false }), async (req, res) => {
  const b = req.body as Record<string, string>;
  const key = `s:${b.sessionId}`;
  const prev = await redis.get(key);
  const n = prev ? Number(prev) + 1 : 1;
  await redis.set(key, String(n), 'EX', 300);
  res.type('text/plain').send(`CON Kalata. Langue / Kan:\n1. Français\n2. Bamanankan\n(${n})`);
});
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
