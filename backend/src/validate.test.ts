import { describe, expect, it } from 'vitest';
import { MESSAGES, skewMessage, validatePayload } from './validate';

const NOW = 1_700_000_000;

function valid(over: Record<string, unknown> = {}): Record<string, unknown> {
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

function messageOf(body: unknown, now = NOW): string | undefined {
  const r = validatePayload(body, now);
  return r.ok ? undefined : r.message;
}

describe('validatePayload: accepts', () => {
  it('a full payload, returning the same object', () => {
    const body = valid();
    expect(validatePayload(body, NOW)).toEqual({ ok: true, payload: body });
  });

  it('the minimal payload (vehicle_id + timestamp only)', () => {
    expect(validatePayload({ vehicle_id: 'v', timestamp: NOW }, NOW).ok).toBe(true);
  });

  it('an empty vehicle_id', () => {
    expect(validatePayload(valid({ vehicle_id: '' }), NOW).ok).toBe(true);
  });

  it('unknown extra fields, keeping them', () => {
    const r = validatePayload(valid({ battery: 0.9, nested: { a: 1 } }), NOW);
    expect(r.ok && r.payload.battery).toBe(0.9);
  });

  it('falsy optional parts (truthiness means "present")', () => {
    for (const over of [{ pose: null }, { control: 0 }, { trajectory: null }, { trajectory: '' }, { track: null }, { track: { outer: null, inner: 0 } }]) {
      expect(validatePayload(valid(over), NOW).ok, JSON.stringify(over)).toBe(true);
    }
  });

  it('a truthy non-object track (track.outer is then undefined)', () => {
    expect(validatePayload(valid({ track: 'oval' }), NOW).ok).toBe(true);
  });

  it('empty arrays for trajectory and boundaries', () => {
    expect(validatePayload(valid({ trajectory: [], track: { outer: [], inner: [] } }), NOW).ok).toBe(true);
  });
});

describe('validatePayload: each rule and its exact message', () => {
  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['a number', 42],
    ['a boolean', true],
    ['undefined', undefined],
  ])('body is %s -> "Payload must be an object"', (_name, body) => {
    expect(validatePayload(body, NOW)).toEqual({ ok: false, status: 400, message: 'Payload must be an object' });
  });

  it('an array body passes the object check (typeof [] === "object") and fails on vehicle_id', () => {
    expect(messageOf([1, 2])).toBe('Missing or invalid vehicle_id');
  });

  it.each([[undefined], [42], [null], [['car']], [{ id: 'x' }]])('vehicle_id %j -> "Missing or invalid vehicle_id"', (vid) => {
    expect(messageOf(valid({ vehicle_id: vid }))).toBe('Missing or invalid vehicle_id');
  });

  it.each([[undefined], ['1700000000'], [null], [[NOW]]])('timestamp %j -> "Missing or invalid timestamp"', (ts) => {
    expect(messageOf(valid({ timestamp: ts }))).toBe('Missing or invalid timestamp');
  });

  it.each([[{}], [{ x: 1 }], [{ z: 1 }], [{ x: '1', z: 2 }], [{ x: 1, z: null }], ['pose'], [[1, 2]], [5]])(
    'pose %j -> "Invalid pose structure"',
    (pose) => {
      expect(messageOf(valid({ pose }))).toBe('Invalid pose structure');
    },
  );

  it.each([[{}], [{ steering: 0 }], [{ throttle: 0 }], [{ steering: '0', throttle: 0 }], ['full'], [true]])(
    'control %j -> "Invalid control structure"',
    (control) => {
      expect(messageOf(valid({ control }))).toBe('Invalid control structure');
    },
  );

  it.each([[{}], ['[[0,0]]'], [1], [true]])('trajectory %j -> "Invalid trajectory format"', (trajectory) => {
    expect(messageOf(valid({ trajectory }))).toBe('Invalid trajectory format');
  });

  it.each([[{ outer: {} }], [{ inner: 'x' }], [{ outer: [], inner: 1 }], [{ outer: true, inner: [] }]])(
    'track %j -> "Invalid track outer/inner boundary"',
    (track) => {
      expect(messageOf(valid({ track }))).toBe('Invalid track outer/inner boundary');
    },
  );

  it('always answers status 400', () => {
    const r = validatePayload(valid({ pose: {} }), NOW);
    expect(r).toEqual({ ok: false, status: 400, message: MESSAGES.pose });
  });
});

describe('validatePayload: order (first failure wins)', () => {
  const allBad = {
    vehicle_id: 1,
    timestamp: 'x',
    pose: {},
    control: {},
    trajectory: {},
    track: { outer: {} },
  };
  const steps: Array<[string, Record<string, unknown>]> = [
    [MESSAGES.vehicleId, {}],
    [MESSAGES.timestamp, { vehicle_id: 'v' }],
    [skewMessage(NOW), { vehicle_id: 'v', timestamp: 0 }],
    [MESSAGES.pose, { vehicle_id: 'v', timestamp: NOW }],
    [MESSAGES.control, { vehicle_id: 'v', timestamp: NOW, pose: { x: 0, z: 0 } }],
    [MESSAGES.trajectory, { vehicle_id: 'v', timestamp: NOW, pose: { x: 0, z: 0 }, control: { steering: 0, throttle: 0 } }],
    [
      MESSAGES.track,
      { vehicle_id: 'v', timestamp: NOW, pose: { x: 0, z: 0 }, control: { steering: 0, throttle: 0 }, trajectory: [] },
    ],
  ];

  it.each(steps)('reports "%s" when every later rule fails too', (expected, fixed) => {
    expect(messageOf({ ...allBad, ...fixed })).toBe(expected);
  });

  it('checks skew before the shape of pose', () => {
    expect(messageOf(valid({ timestamp: NOW - 60, pose: 'bad' }))).toBe('Timestamp skew too large: 60.00s');
  });
});

describe('validatePayload: skew window', () => {
  it('exactly 10.00 s passes (strictly greater rejects), in both directions', () => {
    expect(validatePayload(valid({ timestamp: NOW - 10 }), NOW).ok).toBe(true);
    expect(validatePayload(valid({ timestamp: NOW + 10 }), NOW).ok).toBe(true);
  });

  it('10.01 s is rejected with two decimals, in both directions', () => {
    expect(messageOf(valid({ timestamp: NOW - 10.01 }))).toBe('Timestamp skew too large: 10.01s');
    expect(messageOf(valid({ timestamp: NOW + 10.01 }))).toBe('Timestamp skew too large: 10.01s');
  });

  it('a skew just above 10 is rejected but printed rounded as 10.00s', () => {
    expect(messageOf(valid({ timestamp: 1000 - 10.004 }), 1000)).toBe('Timestamp skew too large: 10.00s');
  });

  it('prints large skews with two decimals', () => {
    expect(messageOf(valid({ timestamp: NOW - 3600.123 }))).toBe('Timestamp skew too large: 3600.12s');
    expect(messageOf(valid({ timestamp: 0 }))).toBe(`Timestamp skew too large: ${NOW.toFixed(2)}s`);
  });

  it('honours a configured window', () => {
    expect(validatePayload(valid({ timestamp: NOW - 30 }), NOW, 30).ok).toBe(true);
    expect(validatePayload(valid({ timestamp: NOW - 2 }), NOW, 1)).toEqual({
      ok: false,
      status: 400,
      message: 'Timestamp skew too large: 2.00s',
    });
  });
});

describe('validatePayload: NaN and Infinity (typeof checks only)', () => {
  it('an infinite timestamp passes the type check and fails the skew check as "Infinitys"', () => {
    expect(messageOf(valid({ timestamp: Infinity }))).toBe('Timestamp skew too large: Infinitys');
    expect(messageOf(valid({ timestamp: -Infinity }))).toBe('Timestamp skew too large: Infinitys');
    // JSON can carry it: 1e400 parses to Infinity.
    expect(messageOf(valid(JSON.parse('{"timestamp":1e400}')))).toBe('Timestamp skew too large: Infinitys');
  });

  it('a NaN timestamp passes both checks (NaN > 10 is false)', () => {
    expect(validatePayload(valid({ timestamp: NaN }), NOW).ok).toBe(true);
  });

  it('NaN and Infinity pass the pose and control checks (the point builder throws later)', () => {
    expect(validatePayload(valid({ pose: { x: NaN, z: Infinity } }), NOW).ok).toBe(true);
    expect(validatePayload(valid({ control: { steering: -Infinity, throttle: NaN } }), NOW).ok).toBe(true);
  });

  it('a server clock of NaN lets every timestamp through', () => {
    expect(validatePayload(valid({ timestamp: 0 }), NaN).ok).toBe(true);
  });
});
