/**
 * Realistic Jetson payloads for the body-size case: a full 500-point
 * trajectory plus a track of N points per boundary. Deterministic, so the
 * body size depends on N alone and grows with it; shrinking N therefore finds
 * the smallest track that trips a body limit.
 */
import fc from 'fast-check';
import type { XZ } from '../../models/payload';
import { JSON_CONTENT_TYPE } from '../../models/plan';
import { draft, payloadBody, type RequestDraft } from './drafts';
import { shapeToJson, type PayloadShape } from './payloads';

export interface RealisticOptions {
  trajectoryPoints?: number;
  /** Points on the outer boundary. */
  trackPoints: number;
  /** Points on the inner boundary (default: same as outer). */
  innerPoints?: number;
}

/** Every coordinate has 3 integer digits and 6 decimals: ~25 bytes per pair. */
function coord(i: number, salt: number): number {
  const v = 100 + ((i * 7919 + salt * 104_729) % 800_000) / 1000 + 0.000123;
  return Math.round(v * 1e6) / 1e6;
}

function line(n: number, salt: number): XZ[] {
  return Array.from({ length: n }, (_, i): XZ => [coord(i, salt), coord(i + 1, salt + 1)]);
}

export function realisticJetsonPayload(o: RealisticOptions): Required<Pick<PayloadShape, 'pose' | 'control' | 'trajectory' | 'track'>> {
  return {
    pose: { x: 123.456789, z: -45.678901 },
    control: { steering: -0.123456, throttle: 0.654321 },
    trajectory: line(o.trajectoryPoints ?? 500, 1),
    track: { outer: line(o.trackPoints, 2), inner: line(o.innerPoints ?? o.trackPoints, 3) },
  };
}

export function realisticDraft(o: RealisticOptions): RequestDraft {
  return draft('realistic', payloadBody(shapeToJson(realisticJetsonPayload(o))), { contentType: JSON_CONTENT_TYPE });
}

/** Track size N in [minTrackPoints, maxTrackPoints]; shrinks N towards the minimum. */
export function arbRealisticPayload(opts: { minTrackPoints?: number; maxTrackPoints?: number; trajectoryPoints?: number } = {}): fc.Arbitrary<ReturnType<typeof realisticJetsonPayload>> {
  return fc.integer({ min: opts.minTrackPoints ?? 0, max: opts.maxTrackPoints ?? 5000 })
    .map((trackPoints) => realisticJetsonPayload({ trackPoints, ...(opts.trajectoryPoints !== undefined ? { trajectoryPoints: opts.trajectoryPoints } : {}) }));
}

export function arbRealisticDraft(opts: { minTrackPoints?: number; maxTrackPoints?: number } = {}): fc.Arbitrary<RequestDraft> {
  return fc.integer({ min: opts.minTrackPoints ?? 0, max: opts.maxTrackPoints ?? 5000 }).map((trackPoints) => realisticDraft({ trackPoints }));
}
