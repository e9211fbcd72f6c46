/**
 * Seams of the reference backend. Legacy and durable modes differ only in
 * the Ingestor, the Broadcaster and how strict validation is; the HTTP app
 * (routes, auth, messages) is shared.
 */
import type { Response } from 'express';
import type { TelemetryPayload } from '../../models/payload';

/** A payload that passed validation, with the server's receive time added. */
export type ReceivedPayload = TelemetryPayload & { serverReceiveTime: number };

export type IngestResult =
  | { kind: 'accepted' }
  /** Shed load: answered 503 with Retry-After (seconds). Durable mode only. */
  | { kind: 'unavailable'; retryAfterSec: number; message: string }
  /**
   * Refused for a reason the request itself carries (durable mode: 409, a
   * different sample for an already acknowledged vehicle_id + millisecond).
   */
  | { kind: 'refused'; status: number; message: string };

export interface Ingestor {
  /**
   * Legacy: queue the point in memory and return at once (fire and forget).
   * Durable: resolve only once the sample is durable.
   */
  ingest(payload: ReceivedPayload): IngestResult | Promise<IngestResult>;
  /** On SIGTERM: flush / drain, then release resources. */
  close(): Promise<void>;
  /** Prometheus text lines this ingestor contributes to GET /metrics. */
  metrics?(): string;
}

export interface Broadcaster {
  addClient(res: Response): void;
  /** Send one event to every connected client. */
  broadcast(payload: ReceivedPayload): void;
  clientCount(): number;
  /** Close every client (shutdown). */
  closeAll(): void;
  metrics?(): string;
}

/**
 * Outcome of body validation. Legacy mode answers 400 with the contract's
 * messages; a stricter mode may use another 4xx status.
 */
export type ValidationResult =
  | { ok: true; payload: TelemetryPayload }
  | { ok: false; status: number; message: string };

/** Validates a parsed JSON body against the server clock (seconds, float). */
export type ValidateFn = (body: unknown, nowSec: number) => ValidationResult;
