/**
 * The SMS transport over an SMPP 3.4 bind (smpp-session.ts): one text to one
 * number, in GSM-7 or UCS-2, in as many concatenated parts as the text needs
 * (smpp-text.ts), with a delivery receipt asked for each part.
 *
 * Outcomes, as the worker knows them from Africa's Talking:
 * - accepted: every part answered ESME_ROK; the first part's message_id is
 *   the message's (the others are linked to it for receipts, receipts.ts);
 * - retry: throttled (ESME_RTHROTTLED, ESME_RMSGQFUL), system errors, no bind
 *   (lost, refused, not yet up), no answer in time, and any status this file
 *   does not know (a refused submit sent nothing, so trying again cannot
 *   duplicate it);
 * - permanent: the destination, the source, the length or the coding is
 *   refused (ESME_RINVDSTADR and its kin).
 * A message of several parts is never sent again once a part went out: a
 * later part that fails with a retryable status is tried again here, a few
 * times, on its own; if it still fails the message is failed for good (the
 * handset has a fragment; a resend would repeat the parts it already has).
 */
import smpp from 'smpp';
import type { Logger } from '../../logger.js';
import type { Db } from '../../store/database.js';
import type { SendOutcome, SmsTransport } from '../transport.js';
import { recordPart } from './receipts.js';
import { SmppUnanswered, statusName, type SmppSession, type SubmitAnswer } from './smpp-session.js';
import { encodeSmppText, UDH_INDICATOR } from './smpp-text.js';

const E = smpp.errors;
const PERMANENT = new Set(
  [
    E.ESME_RINVDSTADR,
    E.ESME_RINVDSTTON,
    E.ESME_RINVDSTNPI,
    E.ESME_RINVSRCADR,
    E.ESME_RINVSRCTON,
    E.ESME_RINVSRCNPI,
    E.ESME_RINVMSGLEN,
    E.ESME_RINVESMCLASS,
    E.ESME_RINVDCS,
    E.ESME_RINVNUMDESTS,
    E.ESME_RINVREGDLVFLG,
    E.ESME_RX_P_APPN,
    E.ESME_RX_R_APPN,
  ].filter((code): code is number => typeof code === 'number'),
);

/** Maps a submit_sm_resp status to the worker's outcome. */
export function mapSubmitStatus(answer: SubmitAnswer): SendOutcome {
  const name = statusName(answer.commandStatus);
  if (answer.commandStatus === E.ESME_ROK) return { kind: 'accepted', messageId: answer.messageId, status: 'ESME_ROK', statusCode: 0, cost: null };
  if (PERMANENT.has(answer.commandStatus)) return { kind: 'permanent', reason: name, statusCode: answer.commandStatus };
  return { kind: 'retry', reason: name, statusCode: answer.commandStatus };
}

export interface SmppTransportOptions {
  session: SmppSession;
  sourceAddr: string;
  sourceTon: number;
  sourceNpi: number;
  /** where the link from each part's id to its message's is kept (receipts) */
  db?: Db;
  logger: Logger;
  /** how start-up banners name it */
  description?: string;
  /** tries of a later part of a long message before it is failed (default 4) and the first pause (default 1 s, doubling) */
  partAttempts?: number;
  partRetryMs?: number;
}

/**
 * @example
 * const transport = createSmppTransport({ session, sourceAddr: 'KALATA', sourceTon: 5, sourceNpi: 0, db, logger });
 * await transport.send('+22376000000', 'Kalata: message KA-7Q4M2XH enregistré.');
 */
export function createSmppTransport(options: SmppTransportOptions): SmsTransport {
  const log = options.logger.child({ subsystem: 'sms.smpp' });
  const partAttempts = options.partAttempts ?? 4;
  const partRetryMs = options.partRetryMs ?? 1000;
  let reference = Math.floor(Math.random() * 256);

  async function submitOnce(fields: Record<string, unknown>): Promise<SendOutcome> {
    try {
      return mapSubmitStatus(await options.session.submit(fields));
    } catch (err) {
      if (err instanceof SmppUnanswered) return { kind: 'retry', reason: err.message };
      throw err;
    }
  }

  return {
    name: 'smpp',
    description: options.description ?? 'SMPP',
    async send(to, text) {
      reference = (reference + 1) & 0xff;
      const encoded = encodeSmppText(text, reference);
      const total = encoded.parts.length;
      const ids: (string | null)[] = [];
      for (const [i, part] of encoded.parts.entries()) {
        const fields = {
          source_addr: options.sourceAddr,
          source_addr_ton: options.sourceTon,
          source_addr_npi: options.sourceNpi,
          destination_addr: to.replace(/^\+/, ''),
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          esm_class: total > 1 ? UDH_INDICATOR : 0,
          registered_delivery: 1,
          data_coding: encoded.dataCoding,
          short_message: part,
        };
        let outcome = await submitOnce(fields);
        // The first part is the whole message's fate; a later one is retried alone (see above).
        for (let attempt = 1; i > 0 && outcome.kind === 'retry' && attempt < partAttempts; attempt++) {
          log.warn({ part: i + 1, total, reason: outcome.reason, attempt }, 'SMPP part not accepted; trying it again alone');
          await new Promise((r) => setTimeout(r, partRetryMs * 2 ** (attempt - 1)));
          outcome = await submitOnce(fields);
        }
        if (outcome.kind !== 'accepted') {
          if (i === 0) return outcome;
          return { kind: 'permanent', reason: `part ${i + 1}/${total} not accepted (${outcome.reason}); parts 1-${i} were sent and are not sent again`, ...(outcome.statusCode !== undefined ? { statusCode: outcome.statusCode } : {}) };
        }
        const id = outcome.messageId;
        ids.push(id);
        if (total > 1 && options.db && id && ids[0]) {
          // Kept as each part is accepted: its receipt can come before the last part is answered.
          await recordPart(options.db, { id, firstId: ids[0]!, index: i + 1, total }).catch((err: unknown) =>
            log.warn({ err: (err as Error).message, part: i + 1, total }, 'link from an SMPP part to its message not kept: that part\'s receipt will be unmatched'),
          );
        }
      }
      return { kind: 'accepted', messageId: ids[0] ?? null, status: 'ESME_ROK', statusCode: 0, cost: null };
    },
  };
}

/**
 * The transport of a process without the SMPP bind (a web process): it sends
 * nothing and says why; the worker process holds the bind and sends.
 */
export function smppOutsideWorker(): SmsTransport {
  return {
    name: 'smpp',
    description: 'SMPP (from the worker process)',
    async send() {
      return { kind: 'retry', reason: 'SMPP messages are sent by the worker process, which holds the bind' };
    },
  };
}
