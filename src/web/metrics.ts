/**
 * Prometheus metrics (prom-client), one registry per process: the SMS queue's
 * depth and the messages by status (read when scraped, so they agree across
 * processes), and the sends and their latency as this process saw them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from 'bullmq';
import type { Db } from '../store/database.js';

export interface Metrics {
  readonly registry: Registry;
  observeSend(outcome: string, seconds: number): void;
  /** one group commit of call records: how many turns, how long */
  observeTurnBatch(turns: number, seconds: number): void;
  /** a turn answered with the apology because the process was overloaded (MAX_TURNS_IN_FLIGHT) */
  observeShed(kind: 'opening' | 'continuing'): void;
  /** the SMPP bind, when SMS go by SMPP (src/sms/smpp): its state, the window in use, each submit_sm's answer time */
  readonly smpp: {
    bindState(state: string): void;
    windowInUse(n: number): void;
    submitted(status: string, seconds: number): void;
  };
}

const SMPP_BIND_STATES = ['connecting', 'bound', 'disconnected', 'refused', 'closed'] as const;

export function createMetrics(sources: { db: Db; smsQueue?: Queue }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kalata_' });

  new Gauge({
    name: 'kalata_sms_queue_jobs',
    help: 'SMS jobs in the queue, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      if (!sources.smsQueue) return;
      const counts = await sources.smsQueue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'kalata_sms_messages',
    help: 'SMS messages in the outbox, by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await sources.db
        .selectFrom('sms_outbox')
        .select((eb) => ['status', eb.fn.countAll<string>().as('n')])
        .groupBy('status')
        .execute();
      this.reset();
      for (const r of rows) this.set({ status: r.status }, Number(r.n));
    },
  });
  const sends = new Counter({ name: 'kalata_sms_sends_total', help: 'Gateway calls by outcome', labelNames: ['outcome'], registers: [registry] });
  const latency = new Histogram({
    name: 'kalata_sms_send_seconds',
    help: 'Time the SMS gateway took to answer',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15],
    registers: [registry],
  });
  const batchTurns = new Histogram({
    name: 'kalata_turn_batch_turns',
    help: 'USSD turns written per database transaction (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'kalata_turn_batch_seconds',
    help: 'Time to write one group of USSD turns',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    registers: [registry],
  });
  const shed = new Counter({
    name: 'kalata_turns_shed_total',
    help: 'Turns answered at once with the apology because the process was overloaded: a call opening, or one in progress',
    labelNames: ['kind'],
    registers: [registry],
  });
  const smppBind = new Gauge({ name: 'kalata_smpp_bind_state', help: 'The SMPP bind: 1 for its current state', labelNames: ['state'], registers: [registry] });
  const smppWindow = new Gauge({ name: 'kalata_smpp_window_in_use', help: 'submit_sm sent and not answered yet (the window in use)', registers: [registry] });
  const smppSubmit = new Histogram({
    name: 'kalata_smpp_submit_seconds',
    help: 'Time from submit_sm to its submit_sm_resp, by command status',
    labelNames: ['status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
    registers: [registry],
  });
  return {
    registry,
    smpp: {
      bindState(state) {
        for (const s of SMPP_BIND_STATES) smppBind.set({ state: s }, s === state ? 1 : 0);
      },
      windowInUse(n) {
        smppWindow.set(n);
      },
      submitted(status, seconds) {
        smppSubmit.observe({ status }, seconds);
      },
    },
    observeSend(outcome, seconds) {
      sends.inc({ outcome });
      latency.observe({ outcome }, seconds);
    },
    observeShed(kind) {
      shed.inc({ kind });
    },
    observeTurnBatch(turns, seconds) {
      batchTurns.observe(turns);
      batchSeconds.observe(seconds);
    },
  };
}
