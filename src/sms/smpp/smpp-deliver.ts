/**
 * What arrives on the bind: `deliver_sm` PDUs. A receipt (esm_class bit 0x04)
 * updates its message's delivery status (receipts.ts); anything else is a
 * citizen's message and goes to the same handling as Africa's Talking's
 * inbound callback (src/sms/inbound-sms.ts): keywords, STOP, replies.
 *
 * Deduplication. SMPP 3.4 gives a mobile-originated message no id: an SMSC
 * that did not get our deliver_sm_resp (the bind dropped) delivers the same
 * PDU again, maybe on the next bind. The id recorded is
 * `smpp:<HMAC of destination, text and concatenation reference>:<ms>`; a
 * message whose HMAC equals that of the previous message from the same number
 * within `dedupeWindowMs` (default 15 min) reuses that message's id, so the
 * handler sees a duplicate. Comparing with the previous message only, rather
 * than any recent one, keeps `STOP`, `START`, `STOP` three messages. The HMAC
 * is keyed with PHONE_HASH_KEY: a plain hash of a short text is reversible.
 *
 * Long messages (concatenation UDH) are put back together in memory, keyed by
 * sender and reference, for `reassemblyMs` (default 5 min); a part is
 * acknowledged when it arrives.
 */
import { createHmac } from 'node:crypto';
import type { PDU } from 'smpp';
import type { Logger } from '../../logger.js';
import { toE164 } from '../../channels/phone-number.js';
import { pseudonymizePhone } from '../../privacy/phone.js';
import type { Secrets } from '../../privacy/secrets.js';
import type { Db } from '../../store/database.js';
import type { InboundResult, InboundSms } from '../inbound-sms.js';
import { parseReceipt, recordSmppReceipt } from './receipts.js';
import { concatInfo } from './smpp-text.js';

const MC_DELIVERY_RECEIPT = 0x04;
const ESME_ROK = 0;
/** ESME_RX_T_APPN: a temporary application error, the SMSC delivers again later */
const TEMPORARY_ERROR = 0x64;
/** ESME_RX_P_APPN: a permanent application error (the PDU can never be handled) */
const PERMANENT_ERROR = 0x65;

export interface SmppDeliverDeps {
  db: Db;
  secrets: Secrets;
  handleInbound: (message: InboundSms) => Promise<InboundResult>;
  logger: Logger;
  /** where a sender's number without its country is read (DEFAULT_COUNTRY; default ML) */
  defaultCountry?: string;
  dedupeWindowMs?: number;
  reassemblyMs?: number;
  now?: () => number;
}

function messageText(value: unknown): { text: string; udh?: Buffer[] } | undefined {
  if (typeof value === 'string') return { text: value };
  if (Buffer.isBuffer(value)) return { text: value.toString('latin1') };
  if (value && typeof value === 'object' && 'message' in value) {
    const m = value as { message: unknown; udh?: Buffer[] };
    const text = typeof m.message === 'string' ? m.message : Buffer.isBuffer(m.message) ? m.message.toString('latin1') : undefined;
    return text === undefined ? undefined : { text, ...(m.udh ? { udh: m.udh } : {}) };
  }
  return undefined;
}

/**
 * The sender in E.164 by the channels' one rule (src/channels/phone-number.ts):
 * an international TON states the country (the `+` SMPP leaves out); otherwise
 * the digits are read in `defaultCountry` first.
 */
export function senderE164(addr: string, ton: number | undefined, defaultCountry: string): string | undefined {
  const digits = addr.replace(/^\+/, '');
  if (!/^\d{3,15}$/.test(digits)) return undefined;
  return toE164(ton === 1 || addr.startsWith('+') ? `+${digits}` : digits, defaultCountry);
}

/** Strips what Postgres and the logs refuse (NUL, other controls but newlines and tabs). */
const clean = (text: string) => text.normalize('NFC').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');

/**
 * @example
 * const onDeliver = createSmppDeliverHandler({ db, secrets, handleInbound: ctx.inboundSms, logger });
 * createSmppSession({ ...settings, onDeliver });
 */
export function createSmppDeliverHandler(deps: SmppDeliverDeps): (pdu: PDU) => Promise<number> {
  const log = deps.logger.child({ subsystem: 'sms.smpp' });
  const now = deps.now ?? Date.now;
  const dedupeWindowMs = deps.dedupeWindowMs ?? 15 * 60_000;
  const reassemblyMs = deps.reassemblyMs ?? 5 * 60_000;
  const partial = new Map<string, { parts: Map<number, string>; total: number; timer: NodeJS.Timeout }>();

  async function gatewayIdFor(phone: string, to: string, text: string, reference: string): Promise<string> {
    const digest = createHmac('sha256', deps.secrets.phoneHashKey).update(`${to}\u0000${reference}\u0000${text}`).digest('base64url').slice(0, 22);
    const phoneHash = pseudonymizePhone(deps.secrets.phoneHashKey, phone);
    const previous = await deps.db
      .selectFrom('sms_inbound')
      .select('gateway_id')
      .where('phone_hash', '=', phoneHash)
      .where('received_at', '>', new Date(now() - dedupeWindowMs))
      .orderBy('received_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (previous?.gateway_id.startsWith(`smpp:${digest}:`)) return previous.gateway_id;
    return `smpp:${digest}:${now()}`;
  }

  async function inbound(pdu: PDU): Promise<number> {
    const body = messageText(pdu.message_payload ?? pdu.short_message);
    const phone = senderE164(String(pdu.source_addr ?? ''), pdu.source_addr_ton, deps.defaultCountry ?? 'ML');
    if (!body || !phone) {
      log.warn({ ton: pdu.source_addr_ton }, 'deliver_sm without a readable sender or text: refused');
      return PERMANENT_ERROR;
    }
    const to = String(pdu.destination_addr ?? '');
    let text = clean(body.text);
    let reference = '';
    const concat = concatInfo(body.udh);
    if (concat && concat.total > 1) {
      const key = `${phone}\u0000${to}\u0000${concat.reference}\u0000${concat.total}`;
      let entry = partial.get(key);
      if (!entry) {
        const timer = setTimeout(() => {
          partial.delete(key);
          log.warn({ total: concat.total }, 'a long inbound SMS lost parts: dropped after waiting for them');
        }, reassemblyMs);
        timer.unref();
        entry = { parts: new Map(), total: concat.total, timer };
        partial.set(key, entry);
      }
      entry.parts.set(concat.index, text);
      if (entry.parts.size < entry.total) return ESME_ROK; // acknowledged; the message is handled with its last part
      clearTimeout(entry.timer);
      partial.delete(key);
      text = [...entry.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t).join('');
      reference = `${concat.reference}/${concat.total}`;
    }
    const gatewayId = await gatewayIdFor(phone, to, text, reference);
    const result = await deps.handleInbound({ gatewayId, phone, to: to || null, text: text.trim(), receivedAt: new Date(now()), linkId: null });
    if (result.duplicate) log.info({ inbound: gatewayId }, 'inbound SMS delivered again by the SMSC: recorded once');
    return ESME_ROK;
  }

  return async function onDeliver(pdu: PDU): Promise<number> {
    try {
      if ((Number(pdu.esm_class ?? 0) & 0x3c) === MC_DELIVERY_RECEIPT) {
        const body = messageText(pdu.short_message ?? pdu.message_payload);
        const receipt = parseReceipt(body?.text ?? '', { receiptedMessageId: pdu.receipted_message_id, messageState: pdu.message_state });
        if (!receipt) {
          log.warn('delivery receipt naming no message: acknowledged, ignored');
          return ESME_ROK;
        }
        const known = await recordSmppReceipt(deps.db, receipt);
        if (!known) log.info({ gatewayMessageId: receipt.messageId, stat: receipt.stat }, 'delivery receipt for an unknown message, recorded');
        return ESME_ROK;
      }
      return await inbound(pdu);
    } catch (err) {
      // The database is away: the SMSC keeps the PDU and delivers it again.
      log.warn({ err: (err as Error).message }, 'deliver_sm not recorded; asking the SMSC to deliver it again');
      return TEMPORARY_ERROR;
    }
  };
}
