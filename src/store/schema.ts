/**
 * Table types for Kysely. Columns mirror `migrations/`.
 */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A moment that may be unset, and is left unset when not given. */
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface CallsTable {
  id: string;
  channel: string;
  gateway_session_id: string;
  phone_hash: string;
  service_code: string;
  network_code: string | null;
  language: string;
  flow_hash: string;
  started_at: Timestamp;
  updated_at: Timestamp;
  ended_at: Timestamp | null;
  outcome: string | null;
  last_node: string;
  steps: number;
  phone_masked: string | null;
  telco_status: string | null;
  telco_duration_ms: number | null;
  telco_hops: number | null;
  telco_cost: string | null;
  telco_error: string | null;
}

export interface CallStepsTable {
  call_id: string;
  seq: number;
  node: string;
  input: string | null;
  screen: string;
  screen_length: number;
  encoding: string;
  ended: boolean;
  latency_ms: number;
  created_at: Timestamp;
}

export interface ReportsTable {
  id: Generated<string>;
  ref: string;
  call_id: string | null;
  /** null: filed without a number */
  phone_hash: string | null;
  phone_enc: string | null;
  language: string;
  fields: JSONColumnType<Record<string, string>>;
  /** the fields answered with a recording on the voice line (migration 013): their value is its URL */
  recorded: JSONColumnType<string[], string[] | undefined, string[]>;
  incident: string | null;
  region: string | null;
  /** `sms`, `no_sms` or `no_number`: what the caller chose to leave */
  contact: Generated<string>;
  filing: string | null;
  /** filed from the console's simulator: left out of triage and counts unless asked */
  simulated: Generated<boolean>;
  status: Generated<string>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** the account name of the operator who holds it (triage); null: nobody */
  claimed_by: string | null;
  claimed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** `urgent`, `normal` or `low` set by hand; null: the one its incident type gives (flows/triage.yaml) */
  priority: string | null;
}

/** Call-back requests (migration 008): see src/store/callback-store.ts. */
export interface CallbacksTable {
  id: Generated<string>;
  call_id: string | null;
  phone_hash: string;
  /** null once the outcome is recorded, or past PHONE_RETENTION_DAYS */
  phone_enc: string | null;
  language: string;
  /** the choice the caller made (`voter`, `report`, `other`), if the flow asked */
  topic: string | null;
  /** `waiting`, `claimed` or `done` */
  status: Generated<string>;
  claimed_by: string | null;
  claimed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** `reached`, `no_answer`, `wrong_number` or `refused`, once done */
  outcome: string | null;
  note: string | null;
  /** asked from the console's simulator: left out of the queue and counts unless asked */
  simulated: Generated<boolean>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  done_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface CallersTable {
  phone_hash: string;
  language: string;
  updated_at: Timestamp;
}

export interface SmsOutboxTable {
  id: Generated<string>;
  dedupe_key: string;
  call_id: string | null;
  ref: string | null;
  phone_hash: string;
  phone_enc: string | null;
  language: string;
  template: string;
  vars: JSONColumnType<Record<string, string>>;
  /** pending -> queued -> sending -> sent | dry_run | failed | opted_out (retrying between attempts) */
  status: Generated<string>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  kind: Generated<string>;
  text: string | null;
  segments: number | null;
  encoding: string | null;
  transport: string | null;
  attempts: Generated<number>;
  claimed_at: Timestamp | null;
  sent_at: Timestamp | null;
  gateway_message_id: string | null;
  gateway_status: string | null;
  gateway_status_code: number | null;
  cost: string | null;
  delivery_status: string | null;
  failure_reason: string | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SmsEventsTable {
  id: Generated<string>;
  message_id: string | null;
  gateway_message_id: string | null;
  status: string;
  detail: string | null;
  dedupe_key: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SmsInboundTable {
  id: Generated<string>;
  gateway_id: string;
  phone_hash: string;
  to_code: string | null;
  text: string;
  keyword: string | null;
  link_id: string | null;
  received_at: Timestamp;
  reply_id: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface SmsOptoutsTable {
  phone_hash: string;
  opted_out_at: Timestamp;
}

export interface UsersTable {
  id: Generated<string>;
  name: string;
  role: 'operator' | 'admin';
  password_hash: string;
  /** the console's language for this account */
  language: ColumnType<'fr' | 'en', 'fr' | 'en' | undefined, 'fr' | 'en'>;
  /** set while the account is disabled: it cannot sign in, and its sessions are gone */
  disabled_at: NullableTimestamp;
  last_login_at: NullableTimestamp;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** One-time links (stored as a SHA-256 hash): the first admin, or a password reset. */
export interface SetupTokensTable {
  token_hash: string;
  purpose: 'first_admin' | 'password_reset';
  user_id: string | null;
  created_by: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface ConsoleSessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  expires_at: Timestamp;
}

export interface AuditLogTable {
  id: Generated<string>;
  user_id: string | null;
  user_name: string | null;
  action: string;
  target: string | null;
  detail: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ReportEventsTable {
  id: Generated<string>;
  report_id: string;
  user_name: string | null;
  /** `status`, `note`, `claim`, `release`, `takeover` or `priority` */
  kind: Generated<string>;
  from_status: string | null;
  /** set for a status change; null for the other kinds */
  to_status: string | null;
  note: string | null;
  /** what the event changed besides the status: a priority (`normal -> urgent`), the holder an admin took over from */
  detail: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface FlowVersionsTable {
  hash: string;
  published_by: string;
  published_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface PollingCentresTable {
  id: Generated<string>;
  code: string;
  region: string;
  cercle: string;
  commune: string;
  name: string;
  address: string | null;
  hours: string | null;
  latitude: number | null;
  longitude: number | null;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface PollingStationsTable {
  centre_id: string;
  number: string;
}

/** A voter's station, keyed by a keyed HMAC of the NINA (never the number). */
export interface VoterAssignmentsTable {
  nina_hash: string;
  centre_id: string;
  station: string;
}

/** A console import: the upload, then the worker's run (see migrations/2026-12-01-001-station-imports.ts). */
export interface StationImportsTable {
  id: Generated<string>;
  kind: 'stations' | 'voters' | null;
  replace: boolean;
  status: 'receiving' | 'queued' | 'running' | 'done' | 'failed';
  failure: 'rejected' | 'technical' | 'interrupted' | 'too_large' | null;
  bytes: Generated<number>;
  rows_done: Generated<number>;
  summary: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  problems: JSONColumnType<{ row: number; column: string; reason: string }[] | null, string | null, string | null>;
  problem_count: Generated<number>;
  attempts: Generated<number>;
  user_id: string | null;
  user_name: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** The uploaded file, in order; deleted when its import ends. */
export interface StationImportChunksTable {
  import_id: string;
  seq: number;
  data: Buffer;
}

/** A keyed fingerprint of each key the data is under (migrations/2026-12-01-003-key-fingerprints.ts). */
export interface KeyFingerprintsTable {
  /** PHONE_HASH_KEY, DATA_ENCRYPTION_KEY */
  name: string;
  fingerprint: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** The encrypted number of an opt-out, kept while it stands, so a key rotation can re-key it. */
export interface SmsOptoutNumbersTable {
  phone_hash: string;
  phone_enc: string;
}

export interface Database {
  calls: CallsTable;
  call_steps: CallStepsTable;
  reports: ReportsTable;
  callbacks: CallbacksTable;
  callers: CallersTable;
  sms_outbox: SmsOutboxTable;
  sms_events: SmsEventsTable;
  sms_inbound: SmsInboundTable;
  sms_optouts: SmsOptoutsTable;
  users: UsersTable;
  console_sessions: ConsoleSessionsTable;
  setup_tokens: SetupTokensTable;
  audit_log: AuditLogTable;
  report_events: ReportEventsTable;
  flow_versions: FlowVersionsTable;
  polling_centres: PollingCentresTable;
  polling_stations: PollingStationsTable;
  voter_assignments: VoterAssignmentsTable;
  station_imports: StationImportsTable;
  station_import_chunks: StationImportChunksTable;
  key_fingerprints: KeyFingerprintsTable;
  sms_optout_numbers: SmsOptoutNumbersTable;
}
