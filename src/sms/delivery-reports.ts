/**
 * What a gateway says became of an SMS (a delivery report), recorded for
 * every channel alike: the channels only read their gateway's fields.
 * SMPP receipts, which may come per part of a long message, go through
 * ./smpp/receipts.ts to the same store function.
 */
import type { Db } from '../store/database.js';
import { deliveryStatusKind, recordDelivery } from '../store/sms-store.js';

export interface DeliveryReport {
  gatewayMessageId: string;
  /** the gateway's status word, sanitized */
  status: string;
  failureReason: string | null;
}

/**
 * `recorded`: the message's status follows the report; `unknown_message`:
 * kept as an event, no message has that id (yet); `unknown_status`: a word
 * outside the gateway's list, kept as an event, the message unchanged.
 */
export type DeliveryOutcome = 'recorded' | 'unknown_message' | 'unknown_status';

export type DeliveryReports = (report: DeliveryReport) => Promise<DeliveryOutcome>;

/** Throws when the database is away: the gateway should send the report again. */
export function createDeliveryReports(db: Db): DeliveryReports {
  return async (report) => {
    if (!(await recordDelivery(db, report))) return 'unknown_message';
    return deliveryStatusKind(report.status) === 'unknown' ? 'unknown_status' : 'recorded';
  };
}
