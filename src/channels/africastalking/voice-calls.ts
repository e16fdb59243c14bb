/**
 * Places an outbound call through Africa's Talking's voice API
 * (`POST https://voice.africastalking.com/call`, sandbox `voice.sandbox…`),
 * with the official SDK. When the citizen answers, AT posts to the number's
 * voice callback with `direction=Outbound`, and the voice line serves the
 * menus as for a call that came in (docs/at-voice-protocol.md §4.1).
 *
 * Each entry of AT's answer has a `status`: `Queued` (placed);
 * `InvalidPhoneNumber` and `DestinationNotSupported` (never worth a retry);
 * `InsufficientCredit` and anything else (retried later). The SDK sets no
 * timeout, so one is added; a `clientRequestId` is always given (the SDK
 * sends the string "undefined" without one).
 */
import AfricasTalking from 'africastalking';
import { withTimeout } from '../../with-timeout.js';

export type CallOutcome = { kind: 'placed'; sessionId: string | null } | { kind: 'retry'; reason: string } | { kind: 'permanent'; reason: string };

export interface OutboundCalls {
  place(call: { from: string; to: string; requestId: string }): Promise<CallOutcome>;
}

interface AtCallAnswer {
  entries?: { phoneNumber?: string; status?: string; sessionId?: string }[];
  errorMessage?: string;
}

const PERMANENT = new Set(['InvalidPhoneNumber', 'DestinationNotSupported']);

/** What AT's answer says became of the call. */
export function mapCallAnswer(data: AtCallAnswer): CallOutcome {
  const entry = data?.entries?.[0];
  if (!entry) return { kind: 'retry', reason: `no entry in the answer: ${String(data?.errorMessage ?? 'empty').slice(0, 120)}` };
  const status = String(entry.status ?? 'unknown');
  if (status === 'Queued') return { kind: 'placed', sessionId: entry.sessionId && entry.sessionId !== 'None' ? entry.sessionId : null };
  return PERMANENT.has(status) ? { kind: 'permanent', reason: status } : { kind: 'retry', reason: status };
}

export function atOutboundCalls(options: { username: string; apiKey: string; timeoutMs?: number }): OutboundCalls {
  const voice = AfricasTalking({ username: options.username, apiKey: options.apiKey }).VOICE;
  return {
    async place({ from, to, requestId }) {
      try {
        const data = (await withTimeout(voice.call({ callFrom: from, callTo: [to], clientRequestId: requestId }), options.timeoutMs ?? 10_000)) as AtCallAnswer;
        return mapCallAnswer(data);
      } catch (err) {
        const e = err as { response?: { status?: number; data?: unknown }; message?: string } | string;
        if (typeof e === 'string') return { kind: 'permanent', reason: e.slice(0, 200) };
        const status = e.response?.status;
        // A request AT refuses as malformed will be refused again; anything else may pass later.
        if (status && status >= 400 && status < 500 && status !== 429) return { kind: 'permanent', reason: `HTTP ${status}` };
        return { kind: 'retry', reason: status ? `HTTP ${status}` : String(e.message ?? 'error').slice(0, 200) };
      }
    },
  };
}

/** Without an AT account: nothing is dialled, the call-back is logged as a dry run. */
export const dryRunCalls: OutboundCalls = { place: async () => ({ kind: 'placed', sessionId: null }) };
