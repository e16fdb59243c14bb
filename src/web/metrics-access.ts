/**
 * Who may read `/metrics` in production: a scraper with the bearer token
 * `METRICS_TOKEN`, or a process on this machine. The metrics say how busy
 * the hotline is and when, which is not for anyone on the internet.
 *
 * "On this machine" is the socket's peer address, never X-Forwarded-For
 * (which a client writes itself, whatever `trust proxy` says). And a loopback
 * peer that forwards a request for someone else (it sends X-Forwarded-For,
 * Forwarded or X-Real-IP) is a reverse proxy on this machine, not a local
 * scraper: its clients need the token too. In development `/metrics` is open.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { RequestHandler } from 'express';

/**
 * True for 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (`::ffff:127.0.0.1`).
 *
 * @example
 * isLoopbackAddress(req.socket.remoteAddress);
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase();
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^(?:::|0:0:0:0:0:)ffff:(.+)$/.exec(a)?.[1] ?? a;
  return isIPv4(v4) && v4.startsWith('127.');
}

const FORWARDED = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

export interface MetricsAccessOptions {
  production: boolean;
  /** METRICS_TOKEN; unset: loopback only */
  token?: string | undefined;
}

/** Express middleware in front of `/metrics`: 401/403 with a plain reason when neither the token nor the peer will do. */
export function metricsAccess(options: MetricsAccessOptions): RequestHandler {
  if (!options.production) return (_req, _res, next) => next();
  // Digests have one length, so the comparison says nothing about the token's length either.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const expected = options.token === undefined ? undefined : digest(options.token);
  return (req, res, next) => {
    const bearer = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '')?.[1];
    if (bearer !== undefined && expected && timingSafeEqual(digest(bearer), expected)) return next();
    const proxied = FORWARDED.some((h) => req.headers[h] !== undefined);
    if (!proxied && isLoopbackAddress(req.socket.remoteAddress)) return next();
    res.type('text/plain');
    if (!expected) return void res.status(403).send('metrics are served to this machine only (set METRICS_TOKEN to scrape from elsewhere)');
    res.set('WWW-Authenticate', 'Bearer realm="metrics"');
    res.status(401).send(bearer === undefined ? 'metrics need Authorization: Bearer <METRICS_TOKEN>' : 'wrong metrics token');
  };
}
