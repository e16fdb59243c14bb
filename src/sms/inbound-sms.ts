/**
 * Messages citizens text to the hotline. Each is recorded once (deduplicated
 * on the gateway's id) and answered by SMS in the sender's remembered
 * language: help, a report's status (only to the number that filed it, or
 * to any phone for a report filed without a number),
 * opt-out and opt-in, or a short help for anything else, at most once an hour.
 */
import { sql } from 'kysely';
import type { Lang } from '../engine/types.js';
import type { FlowRegistry } from '../flows/flow-registry.js';
import type { Logger } from '../logger.js';
import { encryptText, pseudonymizePhone } from '../privacy/phone.js';
import type { Secrets } from '../privacy/secrets.js';
import { rememberedLanguage } from '../store/call-log-store.js';
import type { Db } from '../store/database.js';
import { insertSms } from '../store/sms-store.js';
import { createKeywordMatcher, type KeywordMatch, type KeywordTable } from './keywords.js';
import { reportStatusKey, SMS_TEXTS } from './sms-text.js';
import { REFERENCE_PATTERN } from '../runtime/reference.js';
import { PRIVATE_INPUT } from '../privacy/private-input.js';
import { normalizeNina } from '../stations/nina.js';
import { findNinaLike, redactNinaLike } from './nina-in-text.js';
import { findStationByNina } from '../stations/station-lookups.js';
import { hasVoters } from '../stations/station-store.js';

export interface InboundSms {
  gatewayId: string;
  /** E.164 */
  phone: string;
  to: string | null;
  text: string;
  receivedAt: Date;
  linkId: string | null;
}

export type InboundResult = { duplicate: true } | { duplicate: false; action: string; replyId?: string };

export interface InboundDeps {
  db: Db;
  flows: FlowRegistry;
  secrets: Secrets;
  /** the keywords, or where to read the live ones (they change with a published content version) */
  keywords: KeywordTable | (() => KeywordTable);
  logger: Logger;
  enqueueSms?: (ids: readonly string[]) => Promise<void>;
  /** seconds between two "message not understood" replies to one number (default 3600) */
  fallbackEverySeconds?: number;
}

/** `ka7q4m2xh`, `KA 7Q4M2XH`, `7Q4M2XH` -> `KA-7Q4M2XH`; undefined if it cannot be a reference. */
export function normalizeReference(raw: string): string | undefined {
  let compact = raw.toUpperCase().replace(/[^0-9A-Z]/g, '');
  // `KA7Q4M2XH` carries the prefix; a bare `KA7Q4M2` is a reference that starts with KA.
  if (compact.length === 9 && compact.startsWith('KA')) compact = compact.slice(2);
  const ref = `KA-${compact}`;
  return REFERENCE_PATTERN.test(ref) ? ref : undefined;
}

/** How far into a message a lookup keyword is looked for (`Mon NINA est …`). */
const LOOKUP_WORD_WITHIN = 4;

/**
 * A message that does not start with a keyword but names the lookup (`Mon
 * NINA est 1234…`, `le bureau de 1234…`) and holds a NINA is a lookup: people
 * write sentences, not commands.
 */
function lookupInsideMessage(first: KeywordMatch, text: string, match: (text: string) => KeywordMatch): KeywordMatch {
  if (first.action !== 'other') return first;
  const nina = findNinaLike(text);
  if (!nina) return first;
  const words = text.trim().split(/\s+/).slice(1, LOOKUP_WORD_WITHIN);
  return words.some((w) => match(w).action === 'station') ? { action: 'station', word: first.word, argument: nina } : first;
}

/** Replies (help, status, STOP and START acknowledgements, "not understood") one number gets per hour; station lookups have their own limit. */
export const REPLIES_PER_HOUR = 5;

/** Station lookups by SMS a number may make per hour. */
export const STATION_LOOKUPS_PER_HOUR = 5;

export function createInboundSms(deps: InboundDeps) {
  const tableNow = typeof deps.keywords === 'function' ? deps.keywords : () => deps.keywords as KeywordTable;
  // One matcher per table: rebuilt only when a new version brings other keywords.
  let matcherOf: { table: KeywordTable; match: ReturnType<typeof createKeywordMatcher> } | undefined;
  const match = (text: string) => {
    const table = tableNow();
    if (matcherOf?.table !== table) matcherOf = { table, match: createKeywordMatcher(table) };
    return matcherOf.match(text);
  };
  const log = deps.logger.child({ subsystem: 'sms.inbound' });
  const fallbackEvery = deps.fallbackEverySeconds ?? 3600;

  return async function handleInbound(message: InboundSms): Promise<InboundResult> {
    const phoneHash = pseudonymizePhone(deps.secrets.phoneHashKey, message.phone);
    const keyword = lookupInsideMessage(match(message.text), message.text, match);
    // A NINA number is never stored: a lookup's argument is dropped whole, and
    // anything that looks like a NINA is dropped from every other message.
    const storedText =
      keyword.action === 'station' && keyword.argument ? `${message.text.trim().split(/\s+/)[0]} ${PRIVATE_INPUT}` : redactNinaLike(message.text, PRIVATE_INPUT);
    const remembered = await rememberedLanguage(deps.db, phoneHash);
    const languages = deps.flows.live().languages;
    const lang: Lang = remembered !== undefined && languages.includes(remembered) ? remembered : languages[0]!;

    const result = await deps.db.transaction().execute(async (trx): Promise<InboundResult> => {
      // One number's messages are handled one at a time, so the limits below
      // count what its earlier messages did, however many arrive at once.
      await sql`select pg_advisory_xact_lock(hashtextextended(${`kalata:sms-in:${phoneHash}`}, 0))`.execute(trx);
      const inserted = await trx
        .insertInto('sms_inbound')
        .values({
          gateway_id: message.gatewayId,
          phone_hash: phoneHash,
          to_code: message.to,
          text: storedText,
          keyword: keyword.action === 'other' ? null : keyword.action,
          link_id: message.linkId,
          received_at: message.receivedAt,
        })
        .onConflict((oc) => oc.column('gateway_id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) return { duplicate: true };

      let template: string | undefined;
      let vars: Record<string, string> = {};
      let kind = 'reply';
      switch (keyword.action) {
        case 'help':
          template = SMS_TEXTS.help;
          break;
        case 'status': {
          if (!keyword.argument) {
            template = SMS_TEXTS.help; // STATUT alone: say how to use it
            break;
          }
          const ref = normalizeReference(keyword.argument);
          const report = ref
            ? await trx
                .selectFrom('reports')
                .select(['status'])
                .where('ref', '=', ref)
                // A report filed without a number answers any phone that quotes its reference.
                .where((eb) => eb.or([eb('phone_hash', '=', phoneHash), eb('contact', '=', 'no_number')]))
                .executeTakeFirst()
            : undefined;
          if (ref && report) {
            template = SMS_TEXTS.status;
            vars = { ref, status: deps.flows.live().texts(lang, reportStatusKey(report.status)) };
          } else {
            // The same answer whether the reference does not exist or belongs to someone else.
            template = SMS_TEXTS.statusUnknown;
            vars = { ref: ref ?? redactNinaLike(keyword.argument.slice(0, 20), PRIVATE_INPUT) };
          }
          break;
        }
        case 'station': {
          // A NINA has digits: "OU est mon bureau ?" is a question, not a lookup.
          if (!keyword.argument || !/\d/.test(keyword.argument) || !normalizeNina(findNinaLike(keyword.argument) ?? keyword.argument)) {
            template = SMS_TEXTS.stationHelp;
            break;
          }
          // Counted in the same transaction that records this message (which counts too).
          const recent = await trx
            .selectFrom('sms_inbound')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('phone_hash', '=', phoneHash)
            .where('keyword', '=', 'station')
            .where('received_at', '>', new Date(message.receivedAt.getTime() - 3600_000))
            .executeTakeFirstOrThrow();
          const n = Number(recent.n);
          if (n > STATION_LOOKUPS_PER_HOUR + 1) break; // already told: no more replies this hour
          if (n > STATION_LOOKUPS_PER_HOUR) {
            template = SMS_TEXTS.stationLimit;
            break;
          }
          const found = await findStationByNina(trx, deps.secrets.phoneHashKey, findNinaLike(keyword.argument) ?? keyword.argument);
          // Without a voters list nobody is found: never tell a voter they are not on the list.
          template = found ? SMS_TEXTS.stationFound : (await hasVoters(trx)) ? SMS_TEXTS.stationUnknown : SMS_TEXTS.stationNoList;
          if (found) vars = found;
          break;
        }
        case 'stop':
          await trx
            .insertInto('sms_optouts')
            .values({ phone_hash: phoneHash, opted_out_at: message.receivedAt })
            .onConflict((oc) => oc.column('phone_hash').doNothing())
            .execute();
          // The number itself, encrypted, for as long as the opt-out stands: a new
          // PHONE_HASH_KEY cannot recompute a pseudonym, and `npm run keys -- rotate`
          // must still find this opt-out (START deletes it, with the opt-out).
          await trx
            .insertInto('sms_optout_numbers')
            .values({ phone_hash: phoneHash, phone_enc: encryptText(deps.secrets.dataEncryptionKey, message.phone) })
            .onConflict((oc) => oc.column('phone_hash').doUpdateSet((eb) => ({ phone_enc: eb.ref('excluded.phone_enc') })))
            .execute();
          template = SMS_TEXTS.stopAck;
          kind = 'optout_ack';
          break;
        case 'start':
          await trx.deleteFrom('sms_optouts').where('phone_hash', '=', phoneHash).execute();
          template = SMS_TEXTS.startAck;
          kind = 'optout_ack';
          break;
        case 'other': {
          // At most one "not understood" reply per number and period, decided in
          // the same transaction that records the message.
          const recent = await trx
            .selectFrom('sms_outbox')
            .select('id')
            .where('phone_hash', '=', phoneHash)
            .where('template', '=', SMS_TEXTS.fallback)
            .where('created_at', '>', new Date(Date.now() - fallbackEvery * 1000))
            .executeTakeFirst();
          if (!recent) template = SMS_TEXTS.fallback;
          break;
        }
      }
      if (template && keyword.action !== 'station') {
        // Every reply is an SMS paid for: a number gets a handful an hour, whatever it sends.
        const replied = await trx
          .selectFrom('sms_inbound')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('phone_hash', '=', phoneHash)
          .where('received_at', '>', new Date(message.receivedAt.getTime() - 3600_000))
          .where('reply_id', 'is not', null)
          .where('keyword', 'is distinct from', 'station')
          .executeTakeFirstOrThrow();
        if (Number(replied.n) >= REPLIES_PER_HOUR) template = undefined;
      }
      if (!template) return { duplicate: false, action: keyword.action };
      const replyId = await insertSms(trx, {
        dedupeKey: `in:${message.gatewayId}`,
        kind,
        ref: null,
        phoneHash,
        phoneEnc: encryptText(deps.secrets.dataEncryptionKey, message.phone),
        language: lang,
        template,
        vars,
      });
      if (replyId) await trx.updateTable('sms_inbound').set({ reply_id: replyId }).where('id', '=', inserted.id).execute();
      return { duplicate: false, action: keyword.action, ...(replyId ? { replyId } : {}) };
    });

    if (!result.duplicate) {
      log.info({ action: result.action, inbound: message.gatewayId }, 'inbound SMS');
      if (result.replyId && deps.enqueueSms) {
        deps.enqueueSms([result.replyId]).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'reply left for the outbox relay'));
      }
    }
    return result;
  };
}

