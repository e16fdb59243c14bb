/**
 * One SMPP 3.4 bind as transceiver, kept up: `bind_transceiver` with the
 * system id and password, `enquire_link` every so often (a link that does not
 * answer is dropped and bound again), reconnection with exponential backoff
 * when the bind is lost or refused, a window of outstanding `submit_sm` and a
 * pace of so many submits a second. Incoming `deliver_sm` (receipts and
 * messages) are handed to `onDeliver`, whose answer becomes the
 * `deliver_sm_resp` status: an error there makes the SMSC deliver it again.
 *
 * The `smpp` package does the PDU encoding and the socket; what it leaves
 * out is done here: it never fails a request whose connection closed (its
 * callbacks just stay), has no response timeout, sends enquire_link without
 * checking the answer, and emits socket errors that must be listened to.
 */
import smpp, { type PDU, type Session } from 'smpp';
import type { Logger } from '../../logger.js';

export type BindState = 'connecting' | 'bound' | 'disconnected' | 'refused' | 'closed';

export interface SmppObserver {
  bindState?(state: BindState): void;
  windowInUse?(n: number): void;
  /** one submit_sm answered: its command status name, and how long the answer took */
  submitted?(status: string, seconds: number): void;
}

export interface SmppSessionOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  /** submit_sm awaiting their submit_sm_resp at once (default 10) */
  window?: number;
  /** submit_sm a second at most; 0: no limit (default 0) */
  throughput?: number;
  /** enquire_link period (default 30 s) */
  enquireLinkMs?: number;
  /** how long a request waits for its answer (default 15 s) */
  responseTimeoutMs?: number;
  /** how long a submit waits for a bind and a window slot before giving up (default 10 s) */
  bindWaitMs?: number;
  /** first and longest delay between reconnection attempts (default 500 ms and 30 s) */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** pause after the SMSC answered ESME_RTHROTTLED or ESME_RMSGQFUL (default 1 s) */
  throttledPauseMs?: number;
  logger: Logger;
  /** handles one deliver_sm; resolves the command_status of its deliver_sm_resp */
  onDeliver?: (pdu: PDU) => Promise<number>;
  observe?: SmppObserver;
}

/** Why a submit got no answer from the SMSC. `written`: the PDU left this process (the SMSC may have it). */
export class SmppUnanswered extends Error {
  override name = 'SmppUnanswered';
  constructor(
    readonly why: 'not_bound' | 'bind_lost' | 'timeout' | 'closed',
    readonly written: boolean,
    message: string,
  ) {
    super(message);
  }
}

export interface SubmitAnswer {
  commandStatus: number;
  messageId: string | null;
}

export interface SmppSession {
  readonly state: BindState;
  /** submits sent and not answered yet */
  readonly inFlight: number;
  /** the last bind refusal or connection error, for messages (never the password) */
  readonly lastError: string | undefined;
  start(): void;
  /** sends one submit_sm (fields as SMPP names them) once bound and within the window and pace */
  submit(fields: Record<string, unknown>): Promise<SubmitAnswer>;
  /** resolves once bound; rejects after `timeoutMs` */
  whenBound(timeoutMs?: number): Promise<void>;
  /** unbinds and stops reconnecting */
  close(): Promise<void>;
}

/** The name of an SMPP command status (`ESME_RTHROTTLED`), or its hex code. */
export function statusName(status: number): string {
  for (const [name, code] of Object.entries(smpp.errors)) if (code === status) return name;
  return `0x${status.toString(16).padStart(8, '0')}`;
}

interface Pending {
  resolve(answer: SubmitAnswer): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  started: number;
  submit: boolean;
}

/**
 * @example
 * const session = createSmppSession({ host: 'smsc', port: 2775, systemId: 'kalata', password: 'pw', logger });
 * session.start();
 * const { commandStatus, messageId } = await session.submit({ destination_addr: '22376000000', short_message: Buffer.from('Hi') });
 */
export function createSmppSession(options: SmppSessionOptions): SmppSession {
  const log = options.logger.child({ subsystem: 'sms.smpp' });
  const window = Math.max(1, options.window ?? 10);
  const interval = options.throughput ? 1000 / options.throughput : 0;
  const responseTimeoutMs = options.responseTimeoutMs ?? 15_000;
  const reconnectMin = options.reconnectMinMs ?? 500;
  const reconnectMax = options.reconnectMaxMs ?? 30_000;

  let state: BindState = 'disconnected';
  let socket: Session | undefined;
  let stopped = true;
  let backoff = reconnectMin;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let enquireTimer: NodeJS.Timeout | undefined;
  let lastError: string | undefined;
  let inFlight = 0;
  let nextSlot = 0;
  const pending = new Map<number, Pending>();
  const waiters = new Set<() => void>();

  const setState = (next: BindState) => {
    if (state === next) return;
    state = next;
    options.observe?.bindState?.(next);
    wake();
  };
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const setInFlight = (n: number) => {
    inFlight = n;
    options.observe?.windowInUse?.(n);
    wake();
  };

  /** Sends a request on the current connection and waits for its answer. */
  function request(s: Session, pdu: PDU, submit: boolean): Promise<SubmitAnswer> {
    return new Promise<SubmitAnswer>((resolve, reject) => {
      if (!s.send(pdu)) return reject(new SmppUnanswered('bind_lost', false, 'the connection to the SMSC is closed'));
      const started = performance.now();
      const timer = setTimeout(() => {
        pending.delete(pdu.sequence_number);
        reject(new SmppUnanswered('timeout', true, `no ${pdu.command}_resp within ${responseTimeoutMs} ms`));
      }, responseTimeoutMs);
      pending.set(pdu.sequence_number, { resolve, reject, timer, started, submit });
    });
  }

  function failPending(why: 'bind_lost' | 'closed', message: string) {
    for (const [seq, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(seq);
      p.reject(new SmppUnanswered(why, true, message));
    }
  }

  function scheduleReconnect(delay: number) {
    if (stopped || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connect();
    }, delay);
    reconnectTimer.unref();
  }

  function dropped(s: Session, reason: string) {
    if (socket !== s) return; // an old connection's late events
    socket = undefined;
    clearInterval(enquireTimer);
    enquireTimer = undefined;
    const wasBound = state === 'bound';
    if (state !== 'refused') setState(stopped ? 'closed' : 'disconnected');
    failPending(stopped ? 'closed' : 'bind_lost', `the SMPP bind was lost (${reason}) before the answer`);
    if (wasBound) log.warn({ reason }, 'SMPP bind lost; reconnecting');
    s.destroy();
    const delay = state === 'refused' ? reconnectMax : backoff;
    backoff = Math.min(reconnectMax, backoff * 2);
    // A little jitter: several workers do not all knock at once.
    scheduleReconnect(delay * (0.8 + Math.random() * 0.4));
  }

  function connect() {
    if (stopped) return;
    setState(state === 'refused' ? 'refused' : 'connecting');
    const s = smpp.connect({ host: options.host, port: options.port });
    socket = s;
    const connectTimer = setTimeout(() => dropped(s, 'no connection within the response timeout'), responseTimeoutMs);
    s.on('error', (err: Error) => {
      lastError = `connection error: ${err.message}`;
      log.debug({ err: err.message }, 'SMPP connection error');
      // Also what the library emits for a PDU it cannot parse, after which it reads nothing more.
      s.destroy();
    });
    s.on('close', () => {
      clearTimeout(connectTimer);
      dropped(s, 'connection closed');
    });
    s.on('pdu', (pdu: PDU) => onPdu(s, pdu));
    s.on('connect', () => {
      clearTimeout(connectTimer);
      const bind = new smpp.PDU('bind_transceiver', {
        system_id: options.systemId,
        password: options.password,
        system_type: options.systemType ?? '',
        interface_version: 0x34,
      });
      request(s, bind, false).then(
        ({ commandStatus }) => {
          if (socket !== s) return;
          if (commandStatus !== 0) {
            lastError = `bind refused: ${statusName(commandStatus)}`;
            log.error({ status: statusName(commandStatus), systemId: options.systemId }, 'SMPP bind refused: check SMPP_SYSTEM_ID and SMPP_PASSWORD');
            setState('refused');
            s.destroy();
            return;
          }
          lastError = undefined;
          backoff = reconnectMin;
          setState('bound');
          log.info({ host: options.host, port: options.port }, 'SMPP bound as transceiver');
          enquireTimer = setInterval(() => {
            request(s, new smpp.PDU('enquire_link'), false).catch((err: unknown) => {
              if (socket === s && err instanceof SmppUnanswered && err.why === 'timeout') dropped(s, 'enquire_link unanswered');
            });
          }, options.enquireLinkMs ?? 30_000);
          enquireTimer.unref();
        },
        () => dropped(s, 'bind_transceiver unanswered'),
      );
    });
  }

  function onPdu(s: Session, pdu: PDU) {
    if (pdu.isResponse() || pdu.command === 'generic_nack') {
      const p = pending.get(pdu.sequence_number);
      if (!p) {
        if (pdu.command === 'submit_sm_resp') log.warn({ seq: pdu.sequence_number, status: statusName(pdu.command_status) }, 'late submit_sm_resp, after its timeout');
        return;
      }
      pending.delete(pdu.sequence_number);
      clearTimeout(p.timer);
      if (p.submit) options.observe?.submitted?.(statusName(pdu.command_status), (performance.now() - p.started) / 1000);
      p.resolve({ commandStatus: pdu.command_status, messageId: typeof pdu.message_id === 'string' && pdu.message_id ? pdu.message_id : null });
      return;
    }
    switch (pdu.command) {
      case 'enquire_link':
        s.send(pdu.response());
        return;
      case 'unbind':
        s.send(pdu.response());
        log.warn('the SMSC unbound; reconnecting');
        s.close();
        return;
      case 'deliver_sm': {
        const handle = options.onDeliver ?? (async () => 0);
        handle(pdu).then(
          (status) => s.send(pdu.response({ command_status: status })),
          (err: unknown) => {
            log.warn({ err: (err as Error).message }, 'deliver_sm not handled; the SMSC will deliver it again');
            s.send(pdu.response({ command_status: smpp.errors.ESME_RX_T_APPN }));
          },
        );
        return;
      }
      default:
        // Anything else an ESME does not take (submit_sm from the SMSC, data_sm...): refused, not ignored.
        s.send(pdu.response({ command_status: smpp.errors.ESME_RINVCMDID }));
    }
  }

  /** Waits until bound with a free window slot, or the deadline. */
  async function acquire(deadline: number): Promise<void> {
    while (!(state === 'bound' && inFlight < window)) {
      const left = deadline - Date.now();
      if (left <= 0 || stopped) {
        const why = state === 'bound' ? `the window of ${window} stayed full` : state === 'refused' ? (lastError ?? 'bind refused') : `not bound (${lastError ?? state})`;
        throw new SmppUnanswered(stopped ? 'closed' : 'not_bound', false, `SMPP: ${why}`);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        waiters.add(done);
      });
    }
    setInFlight(inFlight + 1);
  }

  async function pace(): Promise<void> {
    if (!interval) return;
    const now = performance.now();
    const slot = Math.max(now, nextSlot);
    nextSlot = slot + interval;
    if (slot > now) await new Promise((r) => setTimeout(r, slot - now));
  }

  return {
    get state() {
      return state;
    },
    get inFlight() {
      return inFlight;
    },
    get lastError() {
      return lastError;
    },
    start() {
      if (!stopped) return;
      stopped = false;
      connect();
    },
    async submit(fields) {
      const deadline = Date.now() + (options.bindWaitMs ?? 10_000);
      for (;;) {
        await acquire(deadline);
        try {
          await pace();
        } catch {
          /* a timer cannot fail */
        }
        const s = socket;
        if (state !== 'bound' || !s) {
          setInFlight(inFlight - 1); // lost while pacing: nothing was sent, wait for the next bind
          continue;
        }
        try {
          const answer = await request(s, new smpp.PDU('submit_sm', fields), true);
          if (answer.commandStatus === smpp.errors.ESME_RTHROTTLED || answer.commandStatus === smpp.errors.ESME_RMSGQFUL) {
            // Everyone slows down, not just this message.
            nextSlot = Math.max(nextSlot, performance.now() + (options.throttledPauseMs ?? 1000));
          }
          return answer;
        } finally {
          setInFlight(inFlight - 1);
        }
      }
    },
    whenBound(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      return (async () => {
        while (state !== 'bound') {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`SMPP not bound within ${timeoutMs} ms (${lastError ?? state})`);
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              waiters.delete(done);
              resolve();
            };
            const timer = setTimeout(done, Math.min(left, 200));
            waiters.add(done);
          });
        }
      })();
    },
    async close() {
      if (stopped) return;
      stopped = true;
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const s = socket;
      if (s && state === 'bound') {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([request(s, new smpp.PDU('unbind'), false).catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 2000)))]);
        clearTimeout(timer);
      }
      if (s) {
        socket = undefined;
        clearInterval(enquireTimer);
        failPending('closed', 'the SMPP session was closed before the answer');
        s.destroy();
      }
      setState('closed');
      wake();
    },
  };
}
