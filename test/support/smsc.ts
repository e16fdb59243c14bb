/**
 * A real SMPP 3.4 server in the test process: the `smpp` package's own
 * createServer, on a free loopback port. It binds transceivers (checking the
 * system id and password), answers submit_sm as its plan says (a status, a
 * delay, or a dropped connection), records what it parsed and what it
 * accepted, answers enquire_link (or not), and sends deliver_sm (receipts,
 * citizens' messages) to the bound client. Used by test/integration/smpp.test.ts
 * and bench/smpp-throughput.ts.
 */
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type Session } from 'smpp';

export interface SmscSubmit {
  to: string;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  sourceAddr: string;
  sourceTon: number;
  /** the concatenation IE (ref, total, index) when there is a UDH */
  concat?: { reference: number; total: number; index: number };
  /** the part's text, decoded by the library from data_coding */
  text: string;
  /** which bind (1, 2, ...) carried it */
  bind: number;
}

export interface SmscAnswer {
  status?: number;
  delayMs?: number;
  /**
   * `after-answer`: stops reading, answers this and every submit it had read, then closes the
   * connection (what the client sent meanwhile never reached the SMSC); `without-answer`: closes at once
   */
  drop?: 'after-answer' | 'without-answer';
}

export interface TestSmsc {
  port: number;
  /** every submit_sm the server parsed (what it "received") */
  received: SmscSubmit[];
  /** the submit_sm it answered ESME_ROK, with the id it gave */
  accepted: (SmscSubmit & { id: string })[];
  binds: { systemId: string; password: string; ok: boolean; interfaceVersion: number }[];
  enquireLinks: number;
  /** answer enquire_link (default true) */
  answerEnquireLink: boolean;
  /** decides the answer to each submit_sm; `n`: how many the server received for that number so far (1-based) */
  plan: (s: SmscSubmit, n: number) => SmscAnswer;
  /** how many submit_sm the server held unanswered at once, at most */
  maxOutstanding: number;
  /** sends a deliver_sm to the bound client; resolves its deliver_sm_resp status */
  deliver(fields: Record<string, unknown>): Promise<number>;
  boundSessions(): number;
  close(): Promise<void>;
}

const GOOD = { systemId: 'kalata', password: 'pw4smsc' };
export const SMSC_LOGIN = GOOD;

/** The settings that send Kalata's SMS to this server (no pace unless a test sets one). */
export function smscEnv(smsc: { port: number }): Record<string, string> {
  return {
    SMS_TRANSPORT: 'smpp',
    SMPP_HOST: '127.0.0.1',
    SMPP_PORT: String(smsc.port),
    SMPP_SYSTEM_ID: SMSC_LOGIN.systemId,
    SMPP_PASSWORD: SMSC_LOGIN.password,
    SMPP_SOURCE_ADDR: 'KALATA',
    SMPP_THROUGHPUT: '0',
  };
}

function concatOf(udh: Buffer[] | undefined) {
  const ie = udh?.find((x) => x[0] === 0x00);
  return ie ? { reference: ie[2]!, total: ie[3]!, index: ie[4]! } : undefined;
}

export async function startTestSmsc(): Promise<TestSmsc> {
  const bound = new Set<Session>();
  let binds = 0;
  let ids = 0x5f000000;
  let outstanding = 0;
  const perNumber = new Map<string, number>();
  const smsc: TestSmsc = {
    port: 0,
    received: [],
    accepted: [],
    binds: [],
    enquireLinks: 0,
    answerEnquireLink: true,
    plan: () => ({}),
    maxOutstanding: 0,
    async deliver(fields) {
      const session = [...bound].pop();
      if (!session) throw new Error('no client is bound');
      return new Promise<number>((resolve) => {
        session.deliver_sm(fields, (resp) => resolve(resp.command_status));
      });
    },
    boundSessions: () => bound.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of server.sessions) s.destroy();
        server.close(() => resolve());
      }),
  };

  const server = smpp.createServer((session) => {
    let bindNo = 0;
    let unanswered = 0;
    let closing = false;
    session.on('error', () => {});
    session.on('close', () => bound.delete(session));
    session.on('bind_transceiver', (pdu: PDU) => {
      const ok = pdu.system_id === GOOD.systemId && pdu.password === GOOD.password;
      smsc.binds.push({ systemId: String(pdu.system_id), password: String(pdu.password), ok, interfaceVersion: Number(pdu.interface_version) });
      session.send(pdu.response({ command_status: ok ? 0 : smpp.errors.ESME_RINVPASWD }));
      if (ok) {
        bindNo = ++binds;
        bound.add(session);
      } else session.close();
    });
    session.on('enquire_link', (pdu: PDU) => {
      smsc.enquireLinks += 1;
      if (smsc.answerEnquireLink) session.send(pdu.response());
    });
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response(), () => session.close());
    });
    session.on('submit_sm', (pdu: PDU) => {
      if (!bound.has(session)) return void session.send(pdu.response({ command_status: smpp.errors.ESME_RINVBNDSTS }));
      const sm = pdu.short_message as { message?: unknown; udh?: Buffer[] } | undefined;
      const concat = concatOf(sm?.udh);
      const submit: SmscSubmit = {
        to: String(pdu.destination_addr),
        dataCoding: Number(pdu.data_coding),
        esmClass: Number(pdu.esm_class),
        registeredDelivery: Number(pdu.registered_delivery),
        sourceAddr: String(pdu.source_addr),
        sourceTon: Number(pdu.source_addr_ton),
        ...(concat ? { concat } : {}),
        text: typeof sm?.message === 'string' ? sm.message : '',
        bind: bindNo,
      };
      smsc.received.push(submit);
      const n = (perNumber.get(submit.to) ?? 0) + 1;
      perNumber.set(submit.to, n);
      const answer = smsc.plan(submit, n);
      if (answer.drop === 'without-answer') {
        session.pause();
        session.destroy();
        return;
      }
      outstanding += 1;
      unanswered += 1;
      smsc.maxOutstanding = Math.max(smsc.maxOutstanding, outstanding);
      if (answer.drop === 'after-answer') {
        closing = true;
        session.pause();
      }
      const respond = () => {
        outstanding -= 1;
        unanswered -= 1;
        const status = answer.status ?? 0;
        const id = (++ids).toString(16);
        if (status === 0) smsc.accepted.push({ ...submit, id });
        const resp = pdu.response(status === 0 ? { message_id: id } : { command_status: status });
        // Once closing, nothing more is read; the connection ends after the last answer.
        if (closing && unanswered === 0) session.send(resp, () => session.socket.end());
        else session.send(resp);
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  smsc.port = (server.address() as AddressInfo).port;
  return smsc;
}
