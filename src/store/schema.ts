/**
 * The tables as Kysely sees them. Column types are chosen to mean the same thing on SQLite and
 * PostgreSQL: times are epoch milliseconds (bigint), JSON is text, booleans are integer 0/1.
 * The DDL that creates them lives in `migrations.ts`; keep the two in step.
 */
import type { Generated } from 'kysely';

/** `abandoned`: the instance that held the call died; another finalised it (see leases.ts). */
export type CallStatus = 'live' | 'completed' | 'failed' | 'abandoned';
export type HangupBy = 'caller' | 'bot' | 'unknown';
/**
 * Why the call ended: the bot's decisions (end_call, transfer, idle, max_duration, voicemail,
 * refused), the caller hanging up, Exotel stopping the stream, or the connection dropping with
 * neither.
 */
export type EndReason =
  | 'end_call'
  | 'transfer'
  | 'idle'
  | 'max_duration'
  | 'voicemail'
  | 'shutdown'
  | 'refused'
  | 'server_lost'
  | 'caller_hangup'
  | 'stream_stopped'
  | 'connection_lost';
export type SummaryStatus = 'none' | 'pending' | 'done' | 'failed';
export type TurnRole = 'user' | 'bot';

export interface CallsTable {
  /** Our session id. */
  id: string;
  call_sid: string | null;
  stream_sid: string | null;
  account_sid: string | null;
  call_log_id: string | null;
  from_number: string | null;
  to_number: string | null;
  agent: string | null;
  /** JSON object of string → string. */
  custom_parameters: string | null;
  sample_rate: number | null;
  status: Generated<CallStatus>;
  stop_reason: string | null;
  hangup_by: HangupBy | null;
  /** First moment we knew of the call; never null, so it orders the call list. */
  connected_at_ms: number;
  started_at_ms: number | null;
  stopped_at_ms: number | null;
  ended_at_ms: number | null;
  duration_ms: number | null;
  turn_count: Generated<number>;
  barge_in_count: Generated<number>;
  error_count: Generated<number>;
  summary: string | null;
  summary_status: Generated<SummaryStatus>;
  updated_at_ms: number;
  end_reason: EndReason | null;
  /** The model's reason for end_call / transfer_call. */
  end_detail: string | null;
  transfer_to: string | null;
  /** The instance (lease id) that holds the call while it is live. */
  owner: string | null;
  /** Length of the call's recording; null when it has none. */
  recording_ms: number | null;
}

export interface TurnsTable {
  call_id: string;
  idx: number;
  role: TurnRole;
  source: string;
  text: string;
  /** Bot rows only: what the caller heard of `text`. */
  heard_text: string | null;
  /** Bot rows only: the words TTS was given, when not `text` (numbers in words); else null. */
  spoken_text: string | null;
  interrupted: number;
  fallback: number;
  preemptive_stt: number;
  /** JSON array of error codes. */
  errors: string;
  /** JSON `StoredTimings` (see turn-rows.ts). */
  timings: string;
  at_ms: number;
  /** Bot rows: JSON array of `ToolCallRecord`. */
  tool_calls: Generated<string>;
  /** Bot rows: the line said while a tool ran. */
  filler: string | null;
  /** Bot rows: end_call / transfer when the model ended the call in this turn. */
  ending: string | null;
}

export interface CallEventsTable {
  /** Derived from the event's content, so a retried write cannot duplicate it. */
  id: string;
  call_id: string;
  at_ms: number;
  kind: string;
  code: string | null;
  detail: string | null;
}

export interface CallContextsTable {
  id: string;
  /** JSON object of string → string. */
  params: string;
  created_at_ms: number;
  expires_at_ms: number;
}

/** A transfer decision, looked up by Exotel's Passthru and Connect applets by CallSid. */
export interface CallTransfersTable {
  call_sid: string;
  call_id: string;
  number: string;
  reason: string | null;
  at_ms: number;
}

/** A running server instance (one per worker), alive while its lease is renewed. */
export interface InstancesTable {
  id: string;
  started_at_ms: number;
  renewed_at_ms: number;
  expires_at_ms: number;
}

/** Where an outbound call stands: Exotel's statuses, plus `queued` before Exotel has it. */
export type OutboundStatus =
  | 'queued'
  | 'ringing'
  | 'in-progress'
  | 'completed'
  | 'busy'
  | 'no-answer'
  | 'failed'
  | 'canceled'
  /** Answered by a machine (the bot's answer check): ours, not Exotel's. */
  | 'voicemail';

/** A call we asked Exotel to place (POST /api/calls/outbound). */
export interface OutboundCallsTable {
  id: string;
  /** E.164. */
  to_number: string;
  agent: string | null;
  /** JSON object of string → string: the call's custom parameters. */
  params: string;
  /** The per-call context the stream URL names. */
  context_id: string | null;
  /** Exotel's CallSid once it took the request; the call record has the same `call_sid`. */
  exotel_call_sid: string | null;
  status: OutboundStatus;
  /** Why it failed before or at Exotel (a code and message). */
  error: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  answered_at_ms: number | null;
  ended_at_ms: number | null;
  /** Last time Exotel's call details were asked for (a call that went quiet). */
  checked_at_ms: number | null;
}

export type CampaignStatus = 'running' | 'paused' | 'canceled' | 'completed';
/** pending: due at next_at_ms; dialing: claimed, being placed; calling: placed; done: final. */
export type CampaignRowState = 'pending' | 'dialing' | 'calling' | 'done';

export interface CampaignsTable {
  id: string;
  name: string;
  agent: string | null;
  status: CampaignStatus;
  pause_reason: string | null;
  concurrency: number;
  calls_per_second: number;
  /** HH:MM, local to `timezone`. */
  window_start: string;
  window_end: string;
  timezone: string;
  /** JSON array of outcomes to retry (busy, no-answer, failed, voicemail). */
  retry_on: string;
  max_attempts: number;
  retry_after_ms: number;
  created_at_ms: number;
  updated_at_ms: number;
  /** When the last call was dialled (calls-per-second pacing across instances). */
  last_dial_at_ms: number | null;
}

export interface CampaignRowsTable {
  campaign_id: string;
  idx: number;
  to_number: string;
  /** JSON object of string → string: the row's custom parameters. */
  params: string;
  state: CampaignRowState;
  attempts: number;
  next_at_ms: number;
  /** The last attempt's outcome: completed, busy, no-answer, failed, canceled, voicemail. */
  outcome: string | null;
  /** The current (or last) attempt's outbound call id, chosen when the row is claimed. */
  outbound_id: string | null;
  /** The instance that claimed the row. */
  claimed_by: string | null;
  updated_at_ms: number;
}

export interface Database {
  calls: CallsTable;
  turns: TurnsTable;
  call_events: CallEventsTable;
  call_contexts: CallContextsTable;
  call_transfers: CallTransfersTable;
  instances: InstancesTable;
  outbound_calls: OutboundCallsTable;
  campaigns: CampaignsTable;
  campaign_rows: CampaignRowsTable;
}
