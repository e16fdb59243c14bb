/**
 * Every migration, in order. Listed here rather than discovered on disk so
 * that they load the same way under tsx, jest and a bundler.
 */
import type { Migration } from 'kysely';
import * as callsAndReports from './2026-11-24-001-calls-and-reports.js';
import * as sms from './2026-11-24-002-sms.js';
import * as consoleTables from './2026-11-24-003-console.js';
import * as telcoEnd from './2026-11-24-004-telco-end.js';
import * as pollingStations from './2026-11-24-005-polling-stations.js';
import * as referenceCheck from './2026-11-24-006-reference-check.js';
import * as stationImports from './2026-12-01-001-station-imports.js';
import * as perNumberIndexes from './2026-12-01-002-per-number-indexes.js';
import * as keyFingerprints from './2026-12-01-003-key-fingerprints.js';
import * as reportContact from './2026-12-01-004-report-contact.js';
import * as setupTokens from './2026-12-01-005-setup-tokens.js';
import * as receiptIndex from './2026-12-01-006-receipt-index.js';
import * as simulatedReports from './2026-12-01-007-simulated-reports.js';
import * as callbacks from './2026-12-01-008-callbacks.js';
import * as reportTriage from './2026-12-01-009-report-triage.js';
import * as contentVersions from './2026-12-01-010-content-versions.js';
import * as consoleLanguage from './2026-12-02-011-console-language.js';
import * as media from './2026-12-02-012-media.js';
import * as reportRecordings from './2026-12-02-013-report-recordings.js';
import * as callsFillfactor from './2026-12-02-014-calls-fillfactor.js';

export const migrations: Record<string, Migration> = {
  '2026-11-24-001-calls-and-reports': callsAndReports,
  '2026-11-24-002-sms': sms,
  '2026-11-24-003-console': consoleTables,
  '2026-11-24-004-telco-end': telcoEnd,
  '2026-11-24-005-polling-stations': pollingStations,
  '2026-11-24-006-reference-check': referenceCheck,
  '2026-12-01-001-station-imports': stationImports,
  '2026-12-01-002-per-number-indexes': perNumberIndexes,
  '2026-12-01-003-key-fingerprints': keyFingerprints,
  '2026-12-01-004-report-contact': reportContact,
  '2026-12-01-005-setup-tokens': setupTokens,
  '2026-12-01-006-receipt-index': receiptIndex,
  '2026-12-01-007-simulated-reports': simulatedReports,
  '2026-12-01-008-callbacks': callbacks,
  '2026-12-01-009-report-triage': reportTriage,
  '2026-12-01-010-content-versions': contentVersions,
  '2026-12-02-011-console-language': consoleLanguage,
  '2026-12-02-012-media': media,
  '2026-12-02-013-report-recordings': reportRecordings,
  '2026-12-02-014-calls-fillfactor': callsFillfactor,
};
