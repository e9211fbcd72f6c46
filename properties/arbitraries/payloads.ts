/**
 * Payload shapes covering what the real Jetson sends: any mix of pose,
 * control, trajectory and track. vehicle_id and timestamp are not part of a
 * shape: the plan decides them (see models/plan.ts).
 */
import fc from 'fast-check';
import type { JsonObject } from '../../models/json';
import type { Control, Pose, Track, XZ } from '../../models/payload';
import { arbFloat } from './floats';

export interface PayloadShape {
  pose?: Pose;
  control?: Control;
  trajectory?: XZ[];
  track?: Track;
}

export interface PayloadShapeOptions {
  /** Trajectory length cap (the Jetson sends up to 500). */
  maxTrajectoryPoints?: number;
  /** Points per track boundary cap. */
  maxTrackPoints?: number;
}

export const arbXZ: fc.Arbitrary<XZ> = fc.tuple(arbFloat(), arbFloat());
export const arbPose: fc.Arbitrary<Pose> = fc.record({ x: arbFloat(), z: arbFloat() });
export const arbControl: fc.Arbitrary<Control> = fc.record({ steering: arbFloat(), throttle: arbFloat() });

/**
 * A polyline: usually a few generated points (each value shrinks), sometimes
 * a long synthetic one whose length is a plain integer (shrinks by bisection).
 */
export function arbPolyline(maxPoints: number): fc.Arbitrary<XZ[]> {
  if (maxPoints <= 0) return fc.constant([]);
  return fc.oneof(
    { withCrossShrink: true },
    { weight: 3, arbitrary: fc.array(arbXZ, { maxLength: Math.min(8, maxPoints) }) },
    { weight: 1, arbitrary: fc.record({ n: fc.nat({ max: maxPoints }), seed: fc.nat({ max: 1_000_000 }) }).map(({ n, seed }) => synthPolyline(n, seed)) },
  );
}

/** Deterministic smooth polyline (a noisy loop), 6-decimal values. */
export function synthPolyline(n: number, seed = 0): XZ[] {
  const pts: XZ[] = [];
  for (let i = 0; i < n; i++) {
    const a = (i / Math.max(n, 1)) * 2 * Math.PI + seed;
    const r = 20 + 5 * Math.sin(seed + i * 0.37);
    pts.push([round6(r * Math.cos(a)), round6(r * Math.sin(a))]);
  }
  return pts;
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

export function arbTrajectory(opts: { maxPoints?: number } = {}): fc.Arbitrary<XZ[]> {
  return arbPolyline(opts.maxPoints ?? 500);
}

export function arbTrack(opts: { maxPoints?: number } = {}): fc.Arbitrary<Track> {
  const line = arbPolyline(opts.maxPoints ?? 2000);
  return fc.record({ outer: line, inner: line }, { requiredKeys: [] });
}

/** Any mix of the four parts, including none at all (shrinks towards `{}`). */
export function arbValidPayloadShape(opts: PayloadShapeOptions = {}): fc.Arbitrary<PayloadShape> {
  return fc.record(
    {
      pose: arbPose,
      control: arbControl,
      trajectory: arbTrajectory({ maxPoints: opts.maxTrajectoryPoints ?? 500 }),
      track: arbTrack({ maxPoints: opts.maxTrackPoints ?? 200 }),
    },
    { requiredKeys: [] },
  );
}

/**
 * A shape with something to store (pose or control, or both): the base of
 * hostile cases, so each finding is about the hostile part alone.
 */
export function arbStorablePayloadShape(opts: PayloadShapeOptions = {}): fc.Arbitrary<PayloadShape> {
  const small: PayloadShapeOptions = { maxTrajectoryPoints: Math.min(opts.maxTrajectoryPoints ?? 8, 8), maxTrackPoints: Math.min(opts.maxTrackPoints ?? 8, 8) };
  return fc.tuple(
    fc.oneof(
      { withCrossShrink: true },
      fc.record({ pose: arbPose }),
      fc.record({ control: arbControl }),
      fc.record({ pose: arbPose, control: arbControl }),
    ),
    fc.record({ trajectory: arbTrajectory({ maxPoints: small.maxTrajectoryPoints }), track: arbTrack({ maxPoints: small.maxTrackPoints }) }, { requiredKeys: [] }),
  ).map(([core, rest]) => ({ ...core, ...rest }));
}

/** A shape as a JSON object (shapes hold only JSON values). */
export function shapeToJson(shape: PayloadShape): JsonObject {
  return shape as unknown as JsonObject;
}
