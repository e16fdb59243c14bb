/**
 * Renders a console page: its Eta template (escaped by default) inside the
 * layout, with the signed-in user, the session's CSRF token, and the helpers
 * every page uses to show dates and stored codes in the reader's language.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Response } from 'express';
import { Eta } from 'eta';
import { CONSOLE_LANGUAGES, type ConsoleLanguage } from '../../store/user-store.js';
import type { ConsoleLocals } from './console-auth.js';
import { clientCatalogue, language, t } from './console-i18n.js';
import {
  callOutcomeLabel,
  deliveryStatusLabel,
  languageLabel,
  roleLabel,
  smsEventDetail,
  smsEventLabel,
  smsKeywordLabel,
  smsKindLabel,
  smsStatusLabel,
  smsTransportLabel,
} from './labels.js';

const here = dirname(fileURLToPath(import.meta.url));
const eta = new Eta({ views: join(here, '..', 'views'), autoEscape: true, cache: true });

const DEFAULT_TIME_ZONE = 'Africa/Bamako';

/**
 * The zone the console shows times in: `CONSOLE_TIME_ZONE` (an IANA name),
 * Africa/Bamako by default or when the name is unknown (one warning).
 * TODO(lead): read it in src/config/config.ts with the rest of the config.
 */
function consoleTimeZone(): string {
  const wanted = process.env.CONSOLE_TIME_ZONE?.trim();
  if (!wanted) return DEFAULT_TIME_ZONE;
  try {
    new Intl.DateTimeFormat('fr-FR', { timeZone: wanted });
    return wanted;
  } catch {
    process.emitWarning(`CONSOLE_TIME_ZONE "${wanted}" is not a time zone: the console shows ${DEFAULT_TIME_ZONE} time`);
    return DEFAULT_TIME_ZONE;
  }
}

export const TIME_ZONE = consoleTimeZone();

/** One formatter per console language and shape, made once. */
function formatter(options: Intl.DateTimeFormatOptions): (d: Date) => string {
  const made = Object.fromEntries(
    CONSOLE_LANGUAGES.map((lang) => [lang, new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', { timeZone: TIME_ZONE, hourCycle: 'h23', ...options })]),
  ) as Record<ConsoleLanguage, Intl.DateTimeFormat>;
  return (d) => made[language()].format(d).replace(',', '');
}
const dateTime = formatter({ day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const seconds = formatter({ day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const hourOfDay = formatter({ day: '2-digit', month: '2-digit', hour: '2-digit' });

/** `01/12/2026 16:36` in the console's time zone (the page footer names it). */
export const fmt = (d: Date | string | null | undefined) => (d ? dateTime(new Date(d)) : '');
/** `01/12/2026 16:36:59`: for histories where seconds tell events apart. */
export const fmtSeconds = (d: Date | string | null | undefined) => (d ? seconds(new Date(d)) : '');
/** `01/12 16 h` (`01/12 16:00` in English): an hour on a chart's axis. */
export const fmtHour = (d: Date) => hourOfDay(d) + (language() === 'en' ? ':00' : '');
/** The zone as the footer names it: `heure de Bamako (GMT)`, or `fuseau Europe/Paris`. */
export const timeZoneLabel = (): string => (TIME_ZONE === DEFAULT_TIME_ZONE ? t('heure de Bamako (GMT)') : t('fuseau {{zone}}', { zone: TIME_ZONE }));

/** Helpers every view gets: the reader's words (`t`), dates, and the words for stored codes. */
const words = { t, fmt, fmtSeconds, timeZoneLabel, roleLabel, outcomeLabel: callOutcomeLabel, languageLabel, smsStatusLabel, deliveryStatusLabel, smsKindLabel, smsKeywordLabel, smsEventLabel, smsEventDetail, smsTransportLabel };

export function page(res: Response, template: string, title: string, nav: string, data: Record<string, unknown> = {}): void {
  const locals = res.locals as ConsoleLocals;
  const lang = language();
  // Where the language button brings the reader back to: this page, if it was opened with a GET.
  // Never a one-time link's token (setup, password): it would sit in the page's form.
  const url = res.req.originalUrl;
  const back = res.req.method !== 'GET' ? '/' : /[?&]token=/.test(url) ? url.split('?')[0]! : url;
  const common = { user: locals.session?.user, csrf: locals.session?.csrfToken ?? '', lang, here: back, clientText: clientCatalogue(lang), ...words };
  const body = eta.render(`./${template}`, { ...common, title, ...data });
  res.type('html').send(eta.render('./layout', { ...common, title, nav, body }));
}

/** The 403 page for a signed-in account whose role does not open this page: in the layout, in the reader's language. */
export function forbiddenPage(res: Response): void {
  res.status(403);
  page(res, 'forbidden', t('Accès réservé'), '', {});
}

/** A page that only says what went wrong (a record that does not exist): in the layout; the caller gives `title` and `message` in the reader's language (`t()`). */
export function messagePage(res: Response, status: number, title: string, message: string): void {
  res.status(status);
  page(res, 'message', title, '', { message });
}
