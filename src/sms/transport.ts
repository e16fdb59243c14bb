/**
 * What the SMS worker needs from a gateway: send one text to one number and
 * say how it went. Gateway quirks (status codes, error shapes) stay in the
 * gateway's channel folder; the worker only sees these three outcomes.
 */
export type SendOutcome =
  /** the gateway took the message; it may still report delivery later */
  | { kind: 'accepted'; messageId: string | null; status: string; statusCode: number | null; cost: string | null }
  /** worth trying again later: network error, timeout, 5xx, 429, a busy gateway */
  | { kind: 'retry'; reason: string; statusCode?: number }
  /** will never work for this message: invalid number, blacklisted, rejected */
  | { kind: 'permanent'; reason: string; statusCode?: number };

export interface SmsTransport {
  /** recorded with each message: `africastalking`, `smpp` or `dry-run` */
  readonly name: string;
  /** how start-up banners name it (`SMPP, smsc.example:2775`); the name when absent */
  readonly description?: string;
  send(to: string, text: string): Promise<SendOutcome>;
}

/**
 * The transport when no gateway account is configured: nothing leaves the
 * machine; the message is recorded as `dry_run` with its full text.
 */
export function createDryRunTransport(): SmsTransport {
  return {
    name: 'dry-run',
    async send() {
      return { kind: 'accepted', messageId: null, status: 'DryRun', statusCode: null, cost: null };
    },
  };
}
