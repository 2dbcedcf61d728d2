/**
 * The call-record store: one Kysely query layer over SQLite (default) or PostgreSQL
 * (DATABASE_URL), with a write queue that holds writes while the database is down.
 */
export {
  openDatabase,
  parseDatabaseUrl,
  type Db,
  type Engine,
  type OpenDatabaseOptions,
} from './database.js';
export { createCallStore, type CallStore, type CallStoreOptions } from './call-store.js';
export type {
  CallDetail,
  CallEventRow,
  CallListRow,
  CallRow,
  ListCallsQuery,
  TurnRow,
} from './reads.js';
export type { StoredTimings } from './turn-rows.js';
export type {
  CallStatus,
  CampaignRowState,
  CampaignStatus,
  EndReason,
  HangupBy,
  OutboundStatus,
  SummaryStatus,
  TurnRole,
} from './schema.js';
export type { TransferDecision } from './transfers.js';
export type {
  Campaign,
  CampaignRow,
  CampaignSettings,
  CampaignSummary,
  ClaimedRow,
} from './campaigns.js';
export { FINAL_STATUSES, type OutboundCall, type OutboundUpdate } from './outbound.js';
export { isUnavailableError } from './db-errors.js';
