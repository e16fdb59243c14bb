/**
 * What the console's pages read from a query string: each parameter checked,
 * and one that a page cannot use refused with a plain reason (a 400, never a
 * 500). Shared by every list page, so filters mean the same everywhere.
 */
import type { ErrorRequestHandler, Request } from 'express';
import { t } from './console-i18n.js';

/** Control characters (NUL above all, which PostgreSQL refuses) never reach a query. */
export const CONTROL = /[\u0000-\u001f\u007f]/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A database id as the console's URLs carry it. */
export const ROW_ID = /^\d{1,18}$/;

export const str = (v: unknown) => (typeof v === 'string' && v.trim() && !CONTROL.test(v) ? v.trim().slice(0, 100) : undefined);
export const int = (v: unknown, max = 100_000) => (typeof v === 'string' && /^\d{1,6}$/.test(v) && Number(v) <= max ? Number(v) : undefined);
export const date = (v: unknown) => (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) ? v : undefined);

/** Pages beyond this are refused: filters narrow a long list, deep offsets only cost the database. */
export const MAX_PAGE = 200;

/** A query parameter the page cannot use: the caller is told which, plainly (never a 500). */
export class BadQuery extends Error {}

/** `?page=`: absent is 1; anything but a whole number from 1 to MAX_PAGE is refused. */
export function pageOf(q: Request['query']): number {
  if (q.page === undefined || q.page === '') return 1;
  const p = typeof q.page === 'string' && /^\d{1,3}$/.test(q.page) ? Number(q.page) : 0;
  if (p < 1 || p > MAX_PAGE) throw new BadQuery(t('Le numéro de page doit être un nombre entier de 1 à {{max}}.', { max: MAX_PAGE }));
  return p;
}

/** The query string of the current filters, for pager and export links. */
export function queryOf(f: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== '' && k !== 'page') q.set(k, String(v));
  return q.toString();
}

/** A BadQuery thrown by any page becomes a 400 with its reason. */
export const badQueryAnswer: ErrorRequestHandler = (err, _req, res, next) => {
  if (!(err instanceof BadQuery)) return next(err);
  res.status(400).type('text/plain').send(err.message);
};
