import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../validate';
import { escapeTagValue, payloadToLine, tagValueProblem } from './lineProtocol';
import { createDurableValidator, DURABLE_MESSAGES, findNonFinite, rejectReason, validateDurable, vehicleIdProblem, type RejectionCounter } from './validate';

const NOW = 1_700_000_000;

function body(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    vehicle_id: 'car-1',
    timestamp: NOW,
    pose: { x: 1, z: 2 },
    control: { steering: 0.1, throttle: 0.5 },
    trajectory: [[0, 0], [1, 1]],
    track: { outer: [[0, 0]], inner: [[1, 1]] },
    ...over,
  };
}

function msg(b: unknown): string | undefined {
  const r = validateDurable(b, NOW);
  return r.ok ? undefined : r.message;
}

describe('validateDurable: keeps the legacy rules and messages', () => {
  it('accepts a full payload, returning it unchanged', () => {
    const b = body();
    expect(validateDurable(b, NOW)).toEqual({ ok: true, payload: b });
  });
  it.each([
    [null, MESSAGES.notObject],
    [{ timestamp: NOW, pose: { x: 1, z: 1 } }, MESSAGES.vehicleId],
    [body({ timestamp: '1' }), MESSAGES.timestamp],
    [body({ pose: { x: 1 } }), MESSAGES.pose],
    [body({ control: { steering: 1 } }), MESSAGES.control],
    [body({ trajectory: 'x' }), MESSAGES.trajectory],
    [body({ track: { outer: 1 } }), MESSAGES.track],
  ])('%j -> %s', (b, m) => {
    expect(msg(b)).toBe(m);
  });
  it('keeps the skew message for a finite timestamp', () => {
    expect(msg(body({ timestamp: NOW - 11 }))).toBe('Timestamp skew too large: 11.00s');
  });
});

describe('validateDurable: the gaps closed', () => {
  it('rejects an empty or blank vehicle_id', () => {
    expect(msg(body({ vehicle_id: '' }))).toBe('Missing or invalid vehicle_id: must not be empty');
    expect(msg(body({ vehicle_id: '   ' }))).toBe('Missing or invalid vehicle_id: must not be empty');
  });
  it('rejects vehicle_ids that cannot be stored unchanged', () => {
    for (const id of ['a\nb', 'tab\there', 'nul\u0000', 'end\\', 'a\\ b', 'a\\,b', 'a\\=b', 'a\\"b', 'lone\ud800', 'x'.repeat(257)]) {
      expect(msg(body({ vehicle_id: id })), JSON.stringify(id)).toMatch(/^Missing or invalid vehicle_id: /);
    }
  });
  it('accepts vehicle_ids with commas, spaces, =, quotes, inner backslashes and non-ASCII', () => {
    for (const id of ['a b,c=d', 'quote"x', 'mid\\back', 'dbl\\\\back', 'ünï€😀', 'x'.repeat(256), ' padded ']) {
      expect(msg(body({ vehicle_id: id })), JSON.stringify(id)).toBeUndefined();
    }
  });
  it('rejects a non-finite timestamp with a timestamp message (not "Infinitys")', () => {
    expect(msg(body({ timestamp: Infinity }))).toBe(DURABLE_MESSAGES.timestampNotFinite);
    expect(msg(body({ timestamp: NaN }))).toBe(DURABLE_MESSAGES.timestampNotFinite);
  });
  it('rejects non-finite pose and control values (the seed answers 500)', () => {
    expect(msg(body({ pose: { x: Infinity, z: 0 } }))).toBe(DURABLE_MESSAGES.pose);
    expect(msg(body({ control: { steering: 0, throttle: -Infinity } }))).toBe(DURABLE_MESSAGES.control);
  });
  it('rejects a non-finite number anywhere else, naming where', () => {
    expect(msg(body({ trajectory: [[0, 0], [1, Infinity]] }))).toBe('Invalid number at trajectory[1][1]: must be finite');
    expect(msg(body({ track: { outer: [[-Infinity, 0]] } }))).toBe('Invalid number at track.outer[0][0]: must be finite');
    expect(msg(body({ extra: { deep: [Infinity] } }))).toBe('Invalid number at extra.deep[0]: must be finite');
  });
  it('rejects a payload with no storable field instead of acknowledging and dropping it', () => {
    expect(msg({ vehicle_id: 'v', timestamp: NOW })).toBe(DURABLE_MESSAGES.noStorableField);
    expect(msg({ vehicle_id: 'v', timestamp: NOW, pose: null, control: 0, trajectory: [[1, 2]] })).toBe(DURABLE_MESSAGES.noStorableField);
    expect(msg({ vehicle_id: 'v', timestamp: NOW, control: { steering: 0, throttle: 0 } })).toBeUndefined();
  });
  it('every rejection is a 400', () => {
    const r = validateDurable(body({ vehicle_id: '' }), NOW);
    expect(r).toMatchObject({ ok: false, status: 400 });
  });
});

describe('rejection reasons (metrics)', () => {
  it('maps messages to reasons and counts them', () => {
    const counter: RejectionCounter = { counts: new Map() };
    const v = createDurableValidator(10, counter);
    v(body({ vehicle_id: '' }), NOW);
    v(body({ vehicle_id: 3 }), NOW);
    v({ vehicle_id: 'v', timestamp: NOW }, NOW);
    v(body({ timestamp: NOW + 100 }), NOW);
    v(body({ trajectory: [[Infinity, 0]] }), NOW);
    v(body(), NOW);
    expect(Object.fromEntries(counter.counts)).toEqual({ vehicle_id: 2, no_storable_field: 1, timestamp_skew: 1, non_finite: 1 });
    expect(rejectReason(MESSAGES.notObject)).toBe('not_object');
    expect(rejectReason(DURABLE_MESSAGES.pose)).toBe('pose');
  });
  it('findNonFinite returns null for finite data', () => {
    expect(findNonFinite(body())).toBeNull();
  });
});

describe('line protocol', () => {
  it('builds the contract\'s point: measurement, tag, float fields, whole-ms time of the sample', () => {
    expect(payloadToLine({ vehicle_id: 'car-1', timestamp: 1_700_000_000.1239, pose: { x: 1, z: -2.5 }, control: { steering: 0.1, throttle: 1e21 } })).toBe(
      'telemetry,vehicle_id=car-1 pose_x=1,pose_z=-2.5,steering=0.1,throttle=1e+21 1700000000123',
    );
    expect(payloadToLine({ vehicle_id: 'v', timestamp: 1.0009, control: { steering: -0, throttle: 5e-324 } })).toBe('telemetry,vehicle_id=v steering=0,throttle=5e-324 1000');
    expect(payloadToLine({ vehicle_id: 'v', timestamp: 1 })).toBeNull();
  });
  it('escapes comma, space and equals in the tag value, nothing else', () => {
    expect(escapeTagValue('a b,c=d')).toBe('a\\ b\\,c\\=d');
    expect(escapeTagValue('quote"x\\y ü')).toBe('quote"x\\y\\ ü');
  });
  it('tagValueProblem flags what line protocol cannot carry', () => {
    expect(tagValueProblem('ok')).toBeNull();
    expect(tagValueProblem('')).toBe('empty');
    expect(tagValueProblem('a\r')).toMatch(/control/);
    expect(tagValueProblem('a\\')).toMatch(/backslash/);
    expect(tagValueProblem('\udc00x')).toMatch(/surrogate/);
    expect(tagValueProblem('😀')).toBeNull();
    expect(vehicleIdProblem('😀')).toBeNull();
  });
});
