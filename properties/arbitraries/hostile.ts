/**
 * The catalogue of malformed and hostile requests: name → arbitrary of the
 * request(s) of that case (one, or two for the duplicate cases). Each case
 * starts from a storable payload (pose and/or control) so that a finding is
 * about the hostile part alone, and shrinks towards its simplest instance.
 */
import fc from 'fast-check';
import { DEFAULT_CONTRACT, type Contract } from '../../models/contract';
import type { JsonObject, JsonValue } from '../../models/json';
import { acceptedSizeBytes } from '../../models/model';
import type { ApiKeyMode, RawNumber } from '../../models/plan';
import { draft, payloadBody, type RequestDraft } from './drafts';
import { arbFloat } from './floats';
import { nonEmptyArray } from './shrinkable';
import { arbControl, arbPose, arbStorablePayloadShape, arbValidPayloadShape, arbXZ, shapeToJson } from './payloads';

export const HOSTILE_NAMES = [
  'apiKeyMissing', 'apiKeyWrong', 'contentTypeWrong', 'contentTypeMissing',
  'notJson', 'emptyBody', 'jsonArrayBody', 'jsonScalarBody',
  'vehicleIdWrongType', 'vehicleIdMissing', 'vehicleIdEmpty', 'vehicleIdExotic', 'vehicleIdLong',
  'timestampWrongType', 'timestampMissing', 'timestampMilliseconds', 'timestampInfinite', 'timestampSkewed',
  'poseWrongType', 'controlWrongType', 'nonFiniteField',
  'trajectoryWrongType', 'trajectoryOddElements', 'trackWrongType',
  'extraFields', 'deepNesting', 'duplicateTimestamp', 'duplicateMillisecond',
  'bodyOverLimit', 'bodyBeyondFloor',
] as const;
export type HostileName = (typeof HOSTILE_NAMES)[number];

/**
 * Characters that break naive line protocol, CSV, SQL/Flux strings or
 * terminals. The first one is where shrinking ends up.
 */
export const EXOTIC_ID_CHARS: readonly string[] = [
  ',', ' ', '=', '"', "'", '\\', '\n', '\r', '\t', '\u0000', '\u007f',
  'é', 'ß', '车', '🚗', '\u202e', '\u200b', '\u0301', '\ud800', '#', '/', '*', '$', '{', '}',
];

/** Wrong-typed JSON values for a field that should be a string or a number. */
const arbWrongScalar = (exclude: 'string' | 'number'): fc.Arbitrary<JsonValue> =>
  fc.oneof(
    ...(exclude === 'string' ? [] : [fc.string({ maxLength: 12 })]),
    ...(exclude === 'number' ? [] : [fc.integer()]),
    fc.constant(null), fc.boolean(), fc.constant([] as JsonValue[]), fc.constant({} as JsonObject),
    fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
    fc.record({ value: fc.integer() }),
  ) as fc.Arbitrary<JsonValue>;

/** Structures that are not {a: number, b: number}. */
const arbWrongStruct = (a: string, b: string): fc.Arbitrary<JsonValue> =>
  fc.oneof(
    fc.constant(null), fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant([] as JsonValue[]),
    arbXZ as fc.Arbitrary<JsonValue>,
    fc.record({ [a]: arbFloat() }) as fc.Arbitrary<JsonValue>,
    fc.record({ [b]: arbFloat() }) as fc.Arbitrary<JsonValue>,
    fc.tuple(arbWrongScalar('number'), arbFloat()).map(([bad, ok]) => ({ [a]: bad, [b]: ok })),
    fc.tuple(arbFloat(), fc.double({ min: -10, max: 10, noNaN: true })).map(([ok, v]) => ({ [a]: ok, [b]: String(v) })),
  );

const withField = (shape: object, key: string, value: JsonValue): JsonObject => ({ ...shapeToJson(shape), [key]: value });

/** Nested arrays `depth` deep: [[[...]]]. */
export function nestedArrays(depth: number): JsonValue {
  let v: JsonValue = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

export function hostileCatalogue(contract: Contract = DEFAULT_CONTRACT): Record<HostileName, fc.Arbitrary<RequestDraft[]>> {
  const base = arbStorablePayloadShape();
  const one = (a: fc.Arbitrary<RequestDraft>) => a.map((d) => [d]);
  const w = Math.round(contract.skewWindowSec * 1000);
  const signed = (mag: fc.Arbitrary<number>) => fc.tuple(fc.boolean(), mag).map(([neg, m]) => (neg ? -m : m));
  const accepted = acceptedSizeBytes(contract);

  return {
    apiKeyMissing: one(base.map((p) => draft('apiKeyMissing', payloadBody(shapeToJson(p)), { apiKey: 'missing' }))),
    // A suffixed key and a truncated one: a key compared by prefix fails on one or the other.
    apiKeyWrong: one(fc.tuple(base, fc.constantFrom<ApiKeyMode>('wrong', 'truncated')).map(([p, apiKey]) => draft('apiKeyWrong', payloadBody(shapeToJson(p)), { apiKey }))),
    contentTypeWrong: one(fc.tuple(base, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'text/json', 'application/jsonx', 'multipart/form-data', 'application/xml'))
      .map(([p, ct]) => draft('contentTypeWrong', payloadBody(shapeToJson(p)), { contentType: ct }))),
    contentTypeMissing: one(base.map((p) => draft('contentTypeMissing', payloadBody(shapeToJson(p)), { contentType: null }))),

    notJson: one(fc.oneof(
      fc.constantFrom('not json', '{"vehicle_id":', "{'vehicle_id': 'x'}", '{"a":1,}', '{"x": NaN}', '{"x": Infinity}', 'null', '   ', '<telemetry/>', '\u0000'),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => `{${s}`),
    ).map((text) => draft('notJson', { kind: 'raw', text }))),
    emptyBody: fc.constant([draft('emptyBody', { kind: 'raw', text: '' })]),
    jsonArrayBody: one(fc.oneof(fc.constant([] as JsonValue[]), arbValidPayloadShape({ maxTrajectoryPoints: 4, maxTrackPoints: 4 }).map((s) => [shapeToJson(s)] as JsonValue[]))
      .map((value) => draft('jsonArrayBody', { kind: 'json', value }))),
    jsonScalarBody: one(fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), arbFloat())
      .map((value) => draft('jsonScalarBody', { kind: 'json', value }))),

    vehicleIdWrongType: one(fc.tuple(base, arbWrongScalar('string'))
      .map(([p, v]) => draft('vehicleIdWrongType', payloadBody(withField(p, 'vehicle_id', v), { vehicleId: { kind: 'asIs' } })))),
    vehicleIdMissing: one(base.map((p) => draft('vehicleIdMissing', payloadBody(shapeToJson(p), { vehicleId: { kind: 'asIs' } })))),
    vehicleIdEmpty: one(base.map((p) => draft('vehicleIdEmpty', payloadBody(withField(p, 'vehicle_id', ''), { vehicleId: { kind: 'asIs' } })))),
    // The run prefix stays in front so the probe still finds the point.
    vehicleIdExotic: one(fc.tuple(base, nonEmptyArray(fc.constantFrom(...EXOTIC_ID_CHARS), 8))
      .map(([p, cs]) => draft('vehicleIdExotic', payloadBody(shapeToJson(p), { vehicleId: { kind: 'suffix', suffix: cs.join('') } })))),
    // Around InfluxDB's 64 KiB series-key limit.
    vehicleIdLong: one(fc.tuple(base, fc.integer({ min: 1000, max: 70_000 }))
      .map(([p, n]) => draft('vehicleIdLong', payloadBody(shapeToJson(p), { vehicleId: { kind: 'suffix', suffix: 'x'.repeat(n) } })))),

    timestampWrongType: one(fc.tuple(base, fc.oneof(arbWrongScalar('number'), fc.constantFrom('1700000000.5', 'now', '2024-01-01T00:00:00Z')))
      .map(([p, v]) => draft('timestampWrongType', payloadBody(withField(p, 'timestamp', v), { timestamp: { kind: 'asIs' } })))),
    timestampMissing: one(base.map((p) => draft('timestampMissing', payloadBody(shapeToJson(p), { timestamp: { kind: 'asIs' } })))),
    timestampMilliseconds: one(base.map((p) => draft('timestampMilliseconds', payloadBody(shapeToJson(p), { timestamp: { kind: 'device', unit: 'ms' } })))),
    timestampInfinite: one(fc.tuple(base, fc.constantFrom('1e309', '-1e309', '1E400'))
      .map(([p, literal]) => draft('timestampInfinite', payloadBody(shapeToJson(p), { rawNumbers: [{ path: ['timestamp'], literal }] })))),
    timestampSkewed: one(fc.tuple(base, fc.oneof(
      { withCrossShrink: true },
      signed(fc.integer({ min: w - 500, max: w + 1500 })),
      signed(fc.integer({ min: w + 1500, max: 86_400_000 })),
    )).map(([p, extraOffsetMs]) => draft('timestampSkewed', payloadBody(shapeToJson(p), { timestamp: { kind: 'device', extraOffsetMs } })))),

    poseWrongType: one(fc.tuple(base, arbWrongStruct('x', 'z'))
      .map(([p, v]) => draft('poseWrongType', payloadBody(withField(p, 'pose', v))))),
    controlWrongType: one(fc.tuple(base, arbWrongStruct('steering', 'throttle'))
      .map(([p, v]) => draft('controlWrongType', payloadBody(withField(p, 'control', v))))),
    // 1e309 parses to Infinity: a number to the validator, unwritable to the store.
    nonFiniteField: one(fc.tuple(arbPose, arbControl, fc.constantFrom<RawNumber['path']>(['pose', 'x'], ['pose', 'z'], ['control', 'steering'], ['control', 'throttle']), fc.constantFrom('1e309', '-1e309'))
      .map(([pose, control, path, literal]) => draft('nonFiniteField', payloadBody(shapeToJson({ pose, control }), { rawNumbers: [{ path, literal }] })))),

    trajectoryWrongType: one(fc.tuple(base, fc.oneof(fc.constant(null), fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.record({ x: fc.integer() }) as fc.Arbitrary<JsonValue>))
      .map(([p, v]) => draft('trajectoryWrongType', payloadBody(withField(p, 'trajectory', v))))),
    // Elements are not validated by the contract: accepted, not stored anyway.
    trajectoryOddElements: one(fc.tuple(base, nonEmptyArray(fc.oneof(fc.string({ maxLength: 4 }), fc.constant(null), fc.integer(), fc.constant([] as JsonValue[]), fc.array(arbFloat(), { minLength: 3, maxLength: 3 })) as fc.Arbitrary<JsonValue>, 6))
      .map(([p, v]) => draft('trajectoryOddElements', payloadBody(withField(p, 'trajectory', v))))),
    trackWrongType: one(fc.tuple(base, fc.oneof(
      fc.constantFrom<JsonValue>(null, 'track', 7, [], { outer: null }),
      fc.tuple(fc.constantFrom('outer', 'inner'), fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.record({ x: fc.integer() }))).map(([side, v]) => ({ [side]: v }) as JsonValue),
    )).map(([p, v]) => draft('trackWrongType', payloadBody(withField(p, 'track', v))))),

    extraFields: one(fc.tuple(base, fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !['vehicle_id', 'timestamp', 'pose', 'control', 'trajectory', 'track', '_pad'].includes(k)),
      fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>,
      { minKeys: 1, maxKeys: 4 },
    )).map(([p, extra]) => draft('extraFields', payloadBody({ ...shapeToJson(p), ...extra })))),
    deepNesting: one(fc.tuple(base, fc.integer({ min: 10, max: 3000 }))
      .map(([p, depth]) => draft('deepNesting', payloadBody(withField(p, 'nested', nestedArrays(depth)))))),

    duplicateTimestamp: fc.tuple(base, base).map(([a, b]) => [
      draft('duplicateTimestamp', payloadBody(shapeToJson(a))),
      draft('duplicateTimestamp', payloadBody(shapeToJson(b), { timestamp: { kind: 'samePrevious' } })),
    ]),
    duplicateMillisecond: fc.tuple(base, base, fc.integer({ min: 1, max: 999 })).map(([a, b, subMsUs]) => [
      draft('duplicateMillisecond', payloadBody(shapeToJson(a))),
      draft('duplicateMillisecond', payloadBody(shapeToJson(b), { timestamp: { kind: 'samePrevious', subMsUs } })),
    ]),

    // Between the backend's limit and the realistic floor: must be accepted.
    bodyOverLimit: one(fc.tuple(base, fc.integer({ min: contract.bodyLimitBytes + 1, max: Math.max(accepted - 4096, contract.bodyLimitBytes + 1) }))
      .map(([p, padChars]) => draft('bodyOverLimit', payloadBody(shapeToJson(p), { padChars })))),
    // Beyond both: may be refused with 413.
    bodyBeyondFloor: one(fc.tuple(base, fc.integer({ min: accepted + 1, max: accepted * 2 }))
      .map(([p, padChars]) => draft('bodyBeyondFloor', payloadBody(shapeToJson(p), { padChars })))),
  };
}
