/**
 * Reference (b): the peer library `ussd-builder` (devDependency, bench only)
 * serving a three-level menu, with its sessions kept in Redis through its
 * `sessionConfig` hooks: the language chosen on level 1 is stored, and read
 * back on levels 2 and 3. No call records.
 *
 * A new menu is built per request: the library keeps the request's arguments
 * on the menu object, so one shared menu would mix up concurrent callers.
 *
 *   PORT=4101 REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/servers/ussd-builder.ts
 */
import express from 'express';
import { Redis } from 'ioredis';
import UssdMenu from 'ussd-builder';

const port = Number(process.env.PORT ?? 4101);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const key = (sessionId: string) => `bench:ussd-builder:${sessionId}`;

const TITLES = { fr: 'Comment voter', bm: 'Wote cogo' } as const;

function buildMenu(): UssdMenu {
  const menu = new UssdMenu();
  menu.sessionConfig({
    start: async () => undefined,
    end: async (sessionId: string) => {
      await redis.del(key(sessionId));
    },
    set: async (sessionId: string, k: string, value: unknown) => {
      await redis.multi().hset(key(sessionId), k, String(value)).expire(key(sessionId), 300).exec();
    },
    get: async (sessionId: string, k: string) => redis.hget(key(sessionId), k),
  });
  // ussd-builder calls `run` without awaiting it: a failed Redis call must still answer.
  const later = (fn: () => Promise<void>) => () => {
    fn().catch(() => menu.end('Service indisponible.'));
  };
  menu.startState({
    run: () => menu.con('Kalata. Langue / Kan:\n1. Français\n2. Bamanankan'),
    next: { '1': 'fr', '2': 'bm' },
  });
  for (const lang of ['fr', 'bm'] as const) {
    menu.state(lang, {
      run: later(async () => {
        await menu.session.set('lang', lang);
        menu.con(`Kalata\n1. ${TITLES[lang]}\n2. Signaler\n3. Aide`);
      }),
      next: { '1': 'vote', '2': 'vote', '3': 'vote' },
    });
  }
  menu.state('vote', {
    run: later(async () => {
      const lang = ((await menu.session.get('lang')) ?? 'fr') as keyof typeof TITLES;
      menu.con(`${TITLES[lang]}\n1. Inscription\n2. Documents\n3. Le jour du vote`);
    }),
    next: { '*\\d': 'info' },
  });
  menu.state('info', {
    run: later(async () => {
      const lang = ((await menu.session.get('lang')) ?? 'fr') as keyof typeof TITLES;
      menu.end(`${TITLES[lang]}: les bureaux ouvrent de 8h à 18h.`);
    }),
  });
  return menu;
}

const app = express();
app.disable('x-powered-by');
app.post('/ussd', express.urlencoded({ extended: false }), (req, res) => {
  buildMenu()
    .run(req.body, (reply: string) => res.type('text/plain').send(reply))
    .catch((err: unknown) => res.status(500).type('text/plain').send(String(err)));
});
app.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
