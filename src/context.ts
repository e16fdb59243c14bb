/**
 * The one wiring point: builds every service from the config with plain
 * factories. Tests pass overrides (their own database, Redis, clock, logger).
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { ConfigError, type Config } from './config/config.js';
import type { CompiledFlows } from './engine/types.js';
import { createFlowRegistry, type FlowRegistry } from './flows/flow-registry.js';
import { createLogger, type Logger } from './logger.js';
import { loadSecrets, type Secrets } from './privacy/secrets.js';
import { verifyKeyFingerprints } from './privacy/key-fingerprints.js';
import { createBatcher } from './store/batcher.js';
import { createStationLookups } from './stations/station-lookups.js';
import type { Lookup } from './runtime/lookups.js';
import { createCallRuntime, type CallRuntime } from './runtime/call-runtime.js';
import { createDatabase, isDataError, migrateToLatest, type Db } from './store/database.js';
import { callStartFacts, recordTurns, type CallStartKey, type TurnRecord } from './store/call-log-store.js';
import { startLocalRedis } from './local-servers/local-redis.js';
import { connectRedis, describeRedis, RedisClusterRefused, refuseRedisCluster, replicaAcknowledgement } from './store/redis-connection.js';
import { createSessionStore } from './store/session-store.js';
import { createTurnSpool, type TurnSpool } from './store/turn-spool.js';
import { createAtSmsTransport } from './channels/africastalking/sms-transport.js';
import type { KeywordTable } from './sms/keywords.js';
import { createInboundSms, type InboundSms, type InboundResult } from './sms/inbound-sms.js';
import { createDryRunTransport, type SmsTransport } from './sms/transport.js';
import { createSmppDeliverHandler } from './sms/smpp/smpp-deliver.js';
import { createSmppSession, type SmppSession, type SmppSessionOptions } from './sms/smpp/smpp-session.js';
import { createSmppTransport, smppOutsideWorker } from './sms/smpp/smpp-transport.js';
import { createSmsQueue, type SmsQueue } from './queue/sms-queue.js';
import { startSmsWorker, type SmsWorker } from './queue/sms-worker.js';
import { createStationImportQueue, type StationImportQueue } from './queue/station-import-queue.js';
import { startStationImportWorker } from './queue/station-import-worker.js';
import { createMetrics, type Metrics } from './web/metrics.js';
import { checkFlows, DEFAULT_KEYWORDS, flowOptions } from './flows/flow-set.js';
import { FlowValidationError } from './flows/problems.js';
import { createDeliveryReports, type DeliveryReports } from './sms/delivery-reports.js';
import { currentTriage, freezeTriage, type Triage } from './flows/triage.js';
import { readContentDirs, type RecordingSources } from './content/content-files.js';
import { createMediaReader, storeRecordings, type MediaReader } from './content/media-store.js';
import { atOutboundCalls, dryRunCalls, type OutboundCalls } from './channels/africastalking/voice-calls.js';
import { createVoiceCallbackQueue, startVoiceCallbackWorker } from './queue/voice-callback-queue.js';
import { createMissedCalls, type MissedCalls } from './runtime/missed-calls.js';
import { createLiveContent, type LiveContent } from './content/live-content.js';
import { createFlowPublisher, type FlowPublisher } from './flows/flow-publisher.js';
import { audit } from './store/user-store.js';
import { withTimeout } from './with-timeout.js';

export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Db;
  /** the console's long reads (calls list, analytics): a standby where DATABASE_READ_URL is set, else `db`. Never the triage actions. */
  readonly readDb: Db;
  readonly redis: Redis;
  readonly flows: FlowRegistry;
  readonly secrets: Secrets;
  readonly redisPrefix: string;
  /** steps calls (USSD today; the voice line next), records them and closes them */
  readonly calls: CallRuntime;
  readonly keywords: KeywordTable;
  /** the incident types the reports list puts first or last: the live version's flows/triage.yaml */
  readonly triage: Triage;
  readonly sms: SmsQueue;
  /** console imports of polling stations, run by the worker role */
  readonly stationImports: StationImportQueue;
  /** present when this process runs the SMS worker */
  readonly smsWorker?: SmsWorker;
  readonly smsTransport: SmsTransport;
  /** the SMPP bind, in a worker process when SMS_TRANSPORT=smpp */
  readonly smppSession?: SmppSession;
  readonly inboundSms: (message: InboundSms) => Promise<InboundResult>;
  /** records what a gateway says became of an SMS */
  readonly deliveryReports: DeliveryReports;
  readonly metrics: Metrics;
  /** answers the engine's lookups (polling stations) */
  readonly lookup: Lookup;
  /** validates edited flows and publishes them live */
  readonly publisher: FlowPublisher;
  /** the content versions this process follows (absent when a test brings its own flows) */
  readonly content?: LiveContent;
  /** turns kept in Redis while the database is down */
  readonly spool: TurnSpool;
  /** the recorded prompts the voice line plays */
  readonly media: MediaReader;
  /** decides and queues the call-back of a missed call to the voice line */
  readonly missedCalls: MissedCalls;
  /** where the embedded services run, for the start-up banner */
  readonly embedded: { database?: string; redis?: string };
  readiness(): Promise<Record<string, 'ok' | 'down'>>;
  /** aborted when this process begins to stop: what holds a connection open (the dashboard's streams) lets go */
  readonly stopping: AbortSignal;
  /** says the process is stopping (serve.ts, on SIGTERM, before the server stops taking connections) */
  beginStop(): void;
  close(): Promise<void>;
}

export interface ContextOverrides {
  logger?: Logger;
  db?: Db;
  redis?: Redis;
  flows?: CompiledFlows;
  secrets?: Secrets;
  /** Redis key prefix, so that tests and deployments can share a server */
  redisPrefix?: string;
  now?: () => number;
  /** run migrations on start (default true) */
  migrate?: boolean;
  keywords?: KeywordTable;
  /** run the SMS worker in this process (npm start, start:worker) */
  worker?: boolean;
  smsTransport?: SmsTransport;
  /** places the voice line's call-backs (tests: a fake; default AT's voice API, or a dry run without an account) */
  outboundCalls?: OutboundCalls;
  voiceCallbackBackoffMs?: number;
  /** rings of one number within this are one missed call (default 2 min) */
  missedCallRepeatMs?: number;
  /** SMS retry policy, shorter in tests */
  smsAttempts?: number;
  smsBackoffMs?: number;
  smsRelayEveryMs?: number;
  /** how long a message stays pending before the relay queues it (default 3 s) */
  smsPendingAfterMs?: number;
  mintReference?: () => string;
  /** SMPP session timings (tests make them short) and the pause between tries of a long message's later part */
  smpp?: Partial<Pick<SmppSessionOptions, 'enquireLinkMs' | 'responseTimeoutMs' | 'bindWaitMs' | 'reconnectMinMs' | 'reconnectMaxMs' | 'throttledPauseMs'>> & { partRetryMs?: number };
  /** how often spooled turns are written to the database (default 2 s) */
  spoolDrainEveryMs?: number;
}

/**
 * @example
 * const ctx = await createContext(loadConfig());
 * createApp(ctx).listen(ctx.config.port);
 */
export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const cleanups: (() => Promise<void>)[] = [];
  const embedded: AppContext['embedded'] = {};
  const stopping = new AbortController();
  try {
    // Flows first: an invalid flow stops the process before anything starts.
    // The files on disk: the first version of an empty database, or (in development) the developer's edits.
    const diskCheck = overrides.flows ? undefined : checkFlows(flowOptions(config));
    if (diskCheck && !diskCheck.flows) throw new FlowValidationError(diskCheck.problems);
    const flows = overrides.flows ?? diskCheck!.flows!;
    if (!flows.languages.includes(config.defaultLanguage)) {
      throw new ConfigError(`invalid DEFAULT_LANGUAGE=${JSON.stringify(config.defaultLanguage)}: the languages of flows/languages.yaml are ${flows.languages.join(', ')}`);
    }
    let keywords = overrides.flows ? (overrides.keywords ?? DEFAULT_KEYWORDS) : diskCheck!.keywords;
    // A test that brings its own flows has no version: its triage is the file beside them, as on disk.
    let triage: Triage | undefined = overrides.flows ? undefined : freezeTriage(diskCheck!.triage);
    const secrets = overrides.secrets ?? loadSecrets(config);

    let redis = overrides.redis;
    let redisTarget = config.redis;
    if (!redis) {
      if (!redisTarget) {
        const local = await startLocalRedis({ dir: join(config.dataDir, 'redis'), persist: true });
        cleanups.push(() => local.stop());
        redisTarget = { kind: 'url', url: local.url };
        embedded.redis = local.url;
      }
      const target = redisTarget;
      // Fail fast: a command waits at most 500 ms and is never queued while Redis is away,
      // so a caller gets the apology at once; ioredis reconnects by itself (through the Sentinels, to the primary of now).
      // Auto-pipelining: the commands of concurrent requests issued in one tick share one write.
      const client = connectRedis(target, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 500, connectTimeout: 3000, enableAutoPipelining: true });
      client.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
      cleanups.push(async () => {
        await client.quit().catch(() => client.disconnect());
      });
      await new Promise<void>((resolve, reject) => {
        if (client.status === 'ready') return resolve();
        const timer = setTimeout(() => reject(new Error(`Redis at ${describeRedis(target)} did not answer within 10 s`)), 10_000);
        client.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await refuseRedisCluster(client, target).catch((err: unknown) => {
        throw err instanceof RedisClusterRefused ? new ConfigError(err.message) : err;
      });
      redis = client;
    }

    let db = overrides.db;
    if (!db) {
      const pgliteDir = join(config.dataDir, 'pglite');
      db = await createDatabase(config.databaseUrl ? { url: config.databaseUrl } : { pgliteDir });
      if (!config.databaseUrl) embedded.database = pgliteDir;
      const created = db;
      cleanups.push(() => created.destroy());
    }
    let readDb = db;
    if (config.databaseReadUrl && !overrides.db) {
      const standby = await createDatabase({ url: config.databaseReadUrl, poolSize: 4 });
      cleanups.push(() => standby.destroy());
      readDb = standby;
    }
    if (overrides.migrate !== false) await migrateToLatest(db);
    // A key that is not the database's would silently break opt-outs, STATUT and reveals.
    await verifyKeyFingerprints(db, secrets, logger);

    const registry = createFlowRegistry(flows);
    const prefix = overrides.redisPrefix ?? config.redisPrefix;
    // Menus as versioned content: this process runs the live version and follows every publish.
    // (A test that brings its own flows runs just those.)
    let liveContent: LiveContent | undefined;
    if (diskCheck) {
      const live = createLiveContent({
        db,
        redis,
        subscriber: () => redis!.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true }),
        prefix,
        registry,
        options: flowOptions(config),
        logger,
        onLive: (_version, check) => {
          keywords = check.keywords;
          triage = freezeTriage(check.triage);
        },
      });
      registry.setLoader(live.load);
      // The recordings beside the texts are stored (converted) before their version refers to them.
      const recordingSources: RecordingSources = new Map();
      const diskFiles = readContentDirs(flowOptions(config), recordingSources);
      if (recordingSources.size) {
        const stored = await storeRecordings(db, recordingSources);
        for (const problem of stored.problems) logger.error({ problem }, 'recording not stored: the voice line says its text by text-to-speech, or not at all');
        if (stored.stored) logger.info({ stored: stored.stored }, 'recordings stored');
      }
      await live.start({ files: diskFiles, check: diskCheck }, { diskWins: !config.production, author: 'fichiers au démarrage' });
      cleanups.push(live.follow());
      liveContent = live;
    }
    // With replicas (Sentinel), what a caller is answered on is on a replica first.
    const confirm = replicaAcknowledgement(redis, { replicas: config.redisWaitReplicas, logger });
    const sessions = createSessionStore(redis, {
      confirm,
      prefix,
      ttlSeconds: config.sessionTtlSeconds,
      resumeWindowSeconds: config.resumeWindowSeconds,
      perPhoneLimit: config.rateLimitPerPhone,
      perAddressLimit: config.rateLimitPerIp,
    });
    const database = db;
    const redisClient = redis;

    // BullMQ: its own connections. The producer fails fast when Redis is away
    // (the outbox keeps the message); the worker waits for Redis forever.
    const bullConnection = () =>
      redisTarget ? connectRedis(redisTarget, { maxRetriesPerRequest: null }) : redisClient.duplicate({ maxRetriesPerRequest: null });
    const producerConnection = redisTarget
      ? connectRedis(redisTarget, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
      : redisClient.duplicate({ maxRetriesPerRequest: 1, enableOfflineQueue: false });
    producerConnection.on('error', () => {});
    const smsOptions = { prefix: `${prefix}bull`, attempts: overrides.smsAttempts ?? 6, backoffMs: overrides.smsBackoffMs ?? 30_000 };
    const sms = createSmsQueue({ ...smsOptions, connection: producerConnection }, logger);
    cleanups.push(async () => {
      await sms.close();
      producerConnection.disconnect();
    });
    const stationImports = createStationImportQueue({ prefix: smsOptions.prefix, connection: producerConnection }, logger);
    cleanups.push(() => stationImports.close());
    const voiceCallbacks = createVoiceCallbackQueue({ prefix: smsOptions.prefix, connection: producerConnection, ...(overrides.voiceCallbackBackoffMs ? { backoffMs: overrides.voiceCallbackBackoffMs } : {}) }, logger);
    cleanups.push(() => voiceCallbacks.close());
    const enqueueSms = (ids: readonly string[]) => sms.enqueue(database, ids);
    const metrics = createMetrics({ db: database, smsQueue: sms.queue });
    // SMPP: the bind lives in the worker process, which sends and also takes the SMSC's deliver_sm
    // (receipts, citizens' messages). Closed after the worker (cleanups run in reverse).
    let smppSession: SmppSession | undefined;
    let inboundForSmpp: ((message: InboundSms) => Promise<InboundResult>) | undefined;
    if (!overrides.smsTransport && config.smpp && overrides.worker) {
      const s = config.smpp;
      const { partRetryMs, ...timings } = overrides.smpp ?? {};
      smppSession = createSmppSession({
        host: s.host,
        port: s.port,
        systemId: s.systemId,
        password: s.password,
        ...(s.systemType ? { systemType: s.systemType } : {}),
        window: s.window,
        throughput: s.throughput,
        enquireLinkMs: s.enquireLinkSeconds * 1000,
        ...timings,
        logger,
        observe: metrics.smpp,
        onDeliver: createSmppDeliverHandler({
          db: database,
          secrets,
          logger,
          defaultCountry: config.defaultCountry,
          handleInbound: (message) => {
            if (!inboundForSmpp) throw new Error('inbound SMS handling not ready yet');
            return inboundForSmpp(message);
          },
        }),
      });
      const session = smppSession;
      cleanups.push(() => session.close());
    }
    const smsTransport =
      overrides.smsTransport ??
      (smppSession
        ? createSmppTransport({ session: smppSession, sourceAddr: config.smpp!.sourceAddr, sourceTon: config.smpp!.sourceTon, sourceNpi: config.smpp!.sourceNpi, db: database, logger, description: `SMPP, ${config.smpp!.host}:${config.smpp!.port}`, ...(overrides.smpp?.partRetryMs !== undefined ? { partRetryMs: overrides.smpp.partRetryMs } : {}) })
        : config.smpp
          ? smppOutsideWorker()
          : config.at
            ? createAtSmsTransport({ username: config.at.username, apiKey: config.at.apiKey, ...(config.at.senderId ? { senderId: config.at.senderId } : {}) })
            : createDryRunTransport());

    let smsWorker: SmsWorker | undefined;
    if (overrides.worker) {
      const workerConnection = bullConnection();
      workerConnection.on('error', () => {});
      const started = startSmsWorker({
        db: database,
        flows: registry,
        secrets,
        transport: smsTransport,
        logger,
        connection: workerConnection,
        prefix: smsOptions.prefix,
        queue: sms,
        observe: metrics.observeSend,
        retentionDays: config.phoneRetentionDays,
        ...(overrides.smsRelayEveryMs ? { relayEveryMs: overrides.smsRelayEveryMs } : {}),
        ...(overrides.smsPendingAfterMs !== undefined ? { pendingAfterMs: overrides.smsPendingAfterMs } : {}),
      });
      // Closed before the queue and the database it uses (cleanups run in reverse).
      cleanups.push(async () => {
        await started.close();
        workerConnection.disconnect();
      });
      smsWorker = started;
      // Missed calls called back: through AT's voice API, or logged only without an AT account.
      const callbackConnection = bullConnection();
      callbackConnection.on('error', () => {});
      const outbound = overrides.outboundCalls ?? (config.at ? atOutboundCalls({ username: config.at.username, apiKey: config.at.apiKey }) : dryRunCalls);
      const callbackWorker = startVoiceCallbackWorker({ connection: callbackConnection, prefix: smsOptions.prefix, calls: outbound, dataKey: secrets.dataEncryptionKey, logger });
      cleanups.push(async () => {
        await callbackWorker.close();
        callbackConnection.disconnect();
      });
      const importConnection = bullConnection();
      importConnection.on('error', () => {});
      const importWorker = startStationImportWorker({ db: database, ninaKey: secrets.phoneHashKey, logger, connection: importConnection, prefix: smsOptions.prefix, queue: stationImports });
      cleanups.push(async () => {
        await importWorker.close();
        importConnection.disconnect();
      });
    }

    const spool = createTurnSpool({ redis: redisClient, db: database, prefix, key: secrets.dataEncryptionKey, logger, confirm });
    let draining = false;
    const drainTimer = setInterval(() => {
      if (draining) return;
      draining = true;
      spool
        .drain()
        .then(({ smsIds }) => (smsIds.length ? enqueueSms(smsIds) : undefined))
        .catch(() => undefined) // still down: next time
        .finally(() => {
          draining = false;
        });
    }, overrides.spoolDrainEveryMs ?? 2000);
    drainTimer.unref();
    cleanups.push(async () => clearInterval(drainTimer));

    const lookup = createStationLookups({ db: database, ninaKey: secrets.phoneHashKey, logger });
    const calls = createCallRuntime({
      flows: registry,
      sessions,
      db,
      secrets,
      logger,
      defaultLanguage: config.defaultLanguage,
      enqueueSms,
      spool,
      lookup,
      // Group commit: the turns and the call starts of concurrent requests share round trips.
      writeTurn: createBatcher((turns: TurnRecord[]) => recordTurns(database, turns), { isolate: isDataError, observe: metrics.observeTurnBatch }),
      callStartFacts: createBatcher((keys: CallStartKey[]) => callStartFacts(database, keys)),
      maxInFlight: config.maxTurnsInFlight,
      onShed: metrics.observeShed,
      ...(overrides.now ? { now: overrides.now } : {}),
      ...(overrides.mintReference ? { mintReference: overrides.mintReference } : {}),
    });
    const publisher = createFlowPublisher({
      options: flowOptions(config),
      registry,
      db: database,
      logger,
      ...(liveContent ? { live: liveContent } : {}),
      // Every publication is in the audit log, whoever or whatever made it.
      onPublish: (hash, by) => audit(database, undefined, 'publish_flows', hash, `published by ${by}`),
    });
    const inboundSms = createInboundSms({ db: database, flows: registry, secrets, keywords: () => keywords, logger, enqueueSms });
    inboundForSmpp = inboundSms;
    smppSession?.start();
    return {
      config,
      logger,
      db: database,
      readDb,
      redis: redisClient,
      flows: registry,
      secrets,
      redisPrefix: prefix,
      calls,
      get keywords() {
        return keywords;
      },
      get triage() {
        return triage ?? currentTriage(config.flowsDir);
      },
      ...(liveContent ? { content: liveContent } : {}),
      sms,
      stationImports,
      ...(smsWorker ? { smsWorker } : {}),
      smsTransport,
      ...(smppSession ? { smppSession } : {}),
      inboundSms,
      deliveryReports: createDeliveryReports(database),
      metrics,
      lookup,
      publisher,
      media: createMediaReader(database),
      missedCalls: createMissedCalls({
        db: database,
        redis: redisClient,
        prefix,
        secrets,
        logger,
        enqueue: (job) => voiceCallbacks.enqueue(job),
        perHour: config.voiceCallbacksPerHour,
        ...(overrides.missedCallRepeatMs !== undefined ? { repeatMs: overrides.missedCallRepeatMs } : {}),
      }),
      spool,
      embedded,
      async readiness() {
        const [r, d] = await Promise.allSettled([
          withTimeout(redisClient.ping(), 500),
          withTimeout(sql`select 1`.execute(database), 1000),
        ]);
        // Driver errors can name hosts and users: they go to the log, not to the caller.
        const status = (name: string, s: PromiseSettledResult<unknown>) => {
          if (s.status === 'fulfilled') return 'ok';
          logger.warn({ check: name, err: String((s.reason as Error)?.message ?? s.reason) }, 'readiness check failed');
          return 'down';
        };
        return { redis: status('redis', r), database: status('database', d) };
      },
      stopping: stopping.signal,
      beginStop: () => stopping.abort(),
      async close() {
        stopping.abort();
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      },
    };
  } catch (err) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    throw err;
  }
}
