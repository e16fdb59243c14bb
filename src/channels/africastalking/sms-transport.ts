/**
 * Sends SMS through the official `africastalking` SDK and maps its answers.
 *
 * The SDK resolves only on HTTP 201 with `SMSMessageData.Recipients[]`, each
 * with a `statusCode`: 100 Processed, 101 Sent, 102 Queued (accepted); 401
 * RiskHold, 405 InsufficientBalance, 500/501/502 gateway errors (retry); 402
 * InvalidSenderId, 403 InvalidPhoneNumber, 404 UnsupportedNumberType, 406
 * UserInBlacklist, 407 CouldNotRoute (permanent). It rejects with a plain
 * Error when it refuses the number before any HTTP call, and with an axios
 * error on HTTP errors. It sets no timeout, so one is added here.
 */
import AfricasTalking from 'africastalking';
import type { SendOutcome, SmsTransport } from '../../sms/transport.js';

const ACCEPTED = new Set([100, 101, 102]);
const RETRYABLE = new Set([401, 405, 500, 501, 502]);

export interface AtSmsOptions {
  username: string;
  apiKey: string;
  senderId?: string;
  timeoutMs?: number;
}

interface AtRecipient {
  statusCode?: number;
  number?: string;
  status?: string;
  cost?: string;
  messageId?: string;
}

interface AtSendResponse {
  SMSMessageData?: { Message?: string; Recipients?: AtRecipient[] };
}

interface HttpError {
  response?: { status?: number; data?: unknown };
  code?: string;
  message?: string;
}

/** Maps whatever the SDK resolved or rejected with to an outcome. */
export function mapAtResponse(data: AtSendResponse): SendOutcome {
  const recipient = data?.SMSMessageData?.Recipients?.[0];
  if (!recipient) {
    return { kind: 'retry', reason: `no recipient in the answer: ${String(data?.SMSMessageData?.Message ?? 'empty').slice(0, 120)}` };
  }
  const code = Number(recipient.statusCode);
  const status = String(recipient.status ?? code);
  if (ACCEPTED.has(code)) {
    return { kind: 'accepted', messageId: recipient.messageId ?? null, status, statusCode: code, cost: recipient.cost ?? null };
  }
  if (RETRYABLE.has(code)) return { kind: 'retry', reason: status, statusCode: code };
  return { kind: 'permanent', reason: status, statusCode: code };
}

export function mapAtError(error: unknown): SendOutcome {
  const e = error as HttpError;
  const status = e?.response?.status;
  if (status !== undefined) {
    if (status >= 500 || status === 429 || status === 408) return { kind: 'retry', reason: `HTTP ${status}`, statusCode: status };
    if (status === 401 || status === 403) return { kind: 'retry', reason: `HTTP ${status}: check AT_USERNAME and AT_API_KEY`, statusCode: status };
    return { kind: 'permanent', reason: `HTTP ${status}`, statusCode: status };
  }
  if (e?.code) return { kind: 'retry', reason: `network: ${e.code}` };
  // A 2xx other than 201: the SDK rejects with the answer's body.
  if (error && typeof error === 'object' && 'SMSMessageData' in error) return mapAtResponse(error as AtSendResponse);
  // The SDK's own validation (an invalid number) rejects with a plain Error before any HTTP call.
  const message = String(e?.message ?? error);
  if (/phone number|calling code|failed custom validation/i.test(message)) return { kind: 'permanent', reason: 'InvalidPhoneNumber' };
  return { kind: 'retry', reason: message.slice(0, 120) };
}

export function createAtSmsTransport(options: AtSmsOptions): SmsTransport {
  const client = AfricasTalking({ username: options.username, apiKey: options.apiKey });
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    name: 'africastalking',
    async send(to, text) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<SendOutcome>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'retry', reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
      });
      const request = client.SMS.send({ to: [to], message: text, ...(options.senderId ? { from: options.senderId } : {}) }).then(
        (data) => mapAtResponse(data as AtSendResponse),
        (error: unknown) => mapAtError(error),
      );
      try {
        return await Promise.race([request, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
