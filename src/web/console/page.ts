/**
 * Renders a console page: its Eta template (escaped by default) inside the
 * layout, with the signed-in user and the session's CSRF token.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Response } from 'express';
import { Eta } from 'eta';
import type { ConsoleLocals } from './console-auth.js';
import { roleLabel } from './labels.js';

const here = dirname(fileURLToPath(import.meta.url));
const eta = new Eta({ views: join(here, '..', 'views'), autoEscape: true, cache: true });

/** `2026-12-01 16:36:59` (UTC). */
export const fmt = (d: Date | string | null) => (d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) : '');

export function page(res: Response, template: string, title: string, nav: string, data: Record<string, unknown> = {}): void {
  const locals = res.locals as ConsoleLocals;
  const common = { user: locals.session?.user, csrf: locals.session?.csrfToken ?? '', fmt, roleLabel };
  const body = eta.render(`./${template}`, { ...common, ...data });
  res.type('html').send(eta.render('./layout', { ...common, title, nav, body }));
}
