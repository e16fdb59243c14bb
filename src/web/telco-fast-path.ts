/**
 * The lean path for the busiest webhook (AT's USSD callback): one POST per
 * keypress on election day. Express's router, body parser and response
 * helpers cost about a tenth of the web process's CPU per turn; here the
 * small form body is read once, straight from the socket, and the answer is
 * written in one go.
 *
 * It is only taken for the plain case, decided from the headers before any
 * byte of the body is read: POST, the exact path (with the WEBHOOK_SECRET
 * segment when one is set, compared in constant time), no query string, a
 * form content type in UTF-8, no content encoding, and a declared length
 * within the limit. Anything else (a wrong secret, another type, gzip, a
 * body announced too large) goes through Express as before, which answers
 * 404, 415 or 413 with the same plain reasons. A body that grows past the
 * limit while being read is refused here with Express's 413 reason.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Request } from 'express';
import type { PlainAnswer } from '../channels/africastalking/form.js';

export interface FastRoute {
  path: string;
  /** the body's most bytes, and most fields (as body-parser counts them) */
  limits: { bytes: number; parameters: number };
  /** answers a parsed form body; `address` is the sender's, read with Express's `trust proxy` */
  answer: (form: Record<string, string | string[]>, address: string | undefined) => Promise<PlainAnswer>;
}

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * Puts the lean path in front of the app's own handling, so that every way
 * the app is served (`app.listen`, a test's server) takes it.
 */
export function withTelcoFastPath(app: Express, routes: readonly FastRoute[], secret: string | undefined): Express {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const expected = secret ? digest(secret) : undefined;
  const byPath = new Map(routes.map((r) => [r.path, r]));
  const routeOf = (url: string): FastRoute | undefined => {
    if (url.includes('?')) return undefined;
    if (!expected) return byPath.get(url);
    const slash = url.lastIndexOf('/');
    const route = byPath.get(url.slice(0, slash));
    return route && timingSafeEqual(digest(url.slice(slash + 1)), expected) ? route : undefined;
  };
  // Express's app is `(req, res, next) => app.handle(req, res, next)` (express/lib/express.js); its types leave `handle` out.
  type Handle = (req: IncomingMessage, res: ServerResponse, next?: unknown) => void;
  const handled = app as unknown as { handle: Handle };
  const handle = handled.handle.bind(app);
  handled.handle = (req, res, next) => {
    const route = req.method === 'POST' ? routeOf(req.url ?? '') : undefined;
    const type = req.headers['content-type'];
    const length = req.headers['content-length'];
    const encoding = req.headers['content-encoding'];
    if (!route || !type || !FORM_TYPE.test(type) || (encoding && encoding.toLowerCase() !== 'identity') || (length !== undefined && !(Number(length) <= route.limits.bytes))) {
      handle(req, res, next);
      return;
    }
    // Express's request methods (req.ip with `trust proxy`), without its routing.
    Object.setPrototypeOf(req, app.request);
    void serve(route, req as unknown as Request, res);
  };
  return app;
}

function send(res: ServerResponse, answer: PlainAnswer, close = false): void {
  if (res.headersSent) return;
  res.writeHead(answer.status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(answer.text),
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(answer.text);
}

async function serve(route: FastRoute, req: Request, res: ServerResponse): Promise<void> {
  const body = await readBody(req, route.limits.bytes);
  if (body === undefined) {
    send(res, { status: 413, text: 'request body too large' }, true);
    return;
  }
  if (body === null) return; // the sender went away
  const form = parseForm(body, route.limits.parameters);
  if (!form) {
    send(res, { status: 413, text: 'request body cannot be read' });
    return;
  }
  try {
    send(res, await route.answer(form, req.ip));
  } catch {
    send(res, { status: 500, text: 'internal error' });
  }
}

/** The body as text; undefined past `limit` bytes, null if the request was aborted. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks, size).toString('utf8')));
    req.on('error', () => resolve(null));
    req.on('aborted', () => resolve(null));
  });
}

/** A flat form (a field repeated is a list, as body-parser reads it); undefined over `most` fields. */
function parseForm(body: string, most: number): Record<string, string | string[]> | undefined {
  const form: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (!body) return form;
  let fields = 1;
  for (let i = body.indexOf('&'); i !== -1; i = body.indexOf('&', i + 1)) if (++fields > most) return undefined;
  for (const [key, value] of new URLSearchParams(body)) {
    const seen = form[key];
    form[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return form;
}
