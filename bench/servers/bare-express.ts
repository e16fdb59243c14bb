/**
 * Reference (a): the least an Express 5 USSD webhook can do. It parses the
 * urlencoded body Africa's Talking sends and answers a fixed `CON` screen,
 * with no session, no storage and no logging.
 *
 *   PORT=4100 node --import tsx bench/servers/bare-express.ts
 */
import express from 'express';

const port = Number(process.env.PORT ?? 4100);
const app = express();
app.disable('x-powered-by');
app.post('/ussd', express.urlencoded({ extended: false }), (req, res) => {
  const text = String((req.body as Record<string, unknown>).text ?? '');
  res.type('text/plain').send(`CON Kalata. Langue / Kan:\n1. Français\n2. Bamanankan\n(${text.length})`);
});
app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
