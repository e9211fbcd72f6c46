/**
 * Request drafts: a PlannedRequest before it has a time and a vehicle. The
 * plan builder (plan.ts) places drafts on a vehicle's schedule and resolves
 * `samePrevious` into an absolute `sameAs` reference, so removing requests
 * while shrinking never leaves a dangling reference.
 */
import fc from 'fast-check';
import { JSON_CONTENT_TYPE, type ApiKeyMode, type BodySpec, type TimestampSpec } from '../../models/plan';
import { arbValidPayloadShape, shapeToJson, type PayloadShapeOptions } from './payloads';

/** A `sameAs` relative to the vehicle's previous timestamped request. */
export type DraftTimestamp =
  | Exclude<TimestampSpec, { kind: 'sameAs' }>
  | { kind: 'samePrevious'; subMsUs?: number };

type PayloadSpec = Extract<BodySpec, { kind: 'payload' }>;
export type DraftBody =
  | Exclude<BodySpec, { kind: 'payload' }>
  | (Omit<PayloadSpec, 'timestamp'> & { timestamp: DraftTimestamp });

export interface RequestDraft {
  label: string;
  apiKey: ApiKeyMode;
  contentType: string | null;
  body: DraftBody;
}

export function payloadBody(payload: PayloadSpec['payload'], more: Partial<Omit<Extract<DraftBody, { kind: 'payload' }>, 'kind' | 'payload'>> = {}): DraftBody {
  return { kind: 'payload', payload, vehicleId: { kind: 'vehicle' }, timestamp: { kind: 'device' }, ...more };
}

export function draft(label: string, body: DraftBody, over: Partial<Omit<RequestDraft, 'label' | 'body'>> = {}): RequestDraft {
  return { label, apiKey: 'valid', contentType: JSON_CONTENT_TYPE, body, ...over };
}

/** A well-formed Jetson request: valid key, JSON, device timestamp. */
export function arbValidDraft(opts: PayloadShapeOptions = {}): fc.Arbitrary<RequestDraft> {
  return arbValidPayloadShape(opts).map((shape) => draft('valid', payloadBody(shapeToJson(shape))));
}
