/**
 * The three-ledger checker: compares a history with the model and gives one
 * verdict per sample across the HTTP reply, the store and SSE, in Jepsen's
 * terms. Every occurrence is counted and listed, not just the first. Pure.
 *
 * Store attribution, per key (vehicle_id + ms):
 *  - acknowledged samples and the stored values equal → ok (late if first
 *    seen more than lagBoundMs after sending);
 *  - acknowledged, nothing stored → lost;
 *  - several candidates, the stored values equal one of them → the others
 *    whose values differ are collapsed (same values = an idempotent resend);
 *  - stored values equal none → the last sender's sample is corrupted, the
 *    other distinct ones collapsed;
 *  - unknown outcome (timeout, error, indeterminate 5xx) and stored → recovered
 *    (counted, not a violation);
 *  - only rejected samples name the key and it is stored → stored_after_reject;
 *  - nobody sent the key → unexpected.
 * Then a lost sample and an unexpected point with the same ms and the same
 * values are paired: the sample is corrupted (stored under a mangled or
 * missing vehicle_id, e.g. escaping or an empty tag) and the point is
 * explained. SSE: see checkSse.
 */
import type { Contract } from './contract';
import { fieldMismatches, fieldsEqual } from './fields';
import {
  outcomeClass, sampleOf, storeKey,
  type History, type OutcomeClass, type RequestRecord, type Sample, type SseEventRecord, type StoreRecord,
} from './history';
import { canonicalJson, isPlainObject, tryParseJson } from './json';
import { FIELD_NAMES, type PointFields } from './payload';
import type { ApiKeyMode } from './plan';
import { messageMatches } from './reasons';
import { predictHistory, refusalOptions, type Prediction } from './model';

export const CATEGORIES = [
  'lost', 'unexpected', 'recovered', 'collapsed', 'corrupted', 'late', 'stored_after_reject',
  'sse_missing', 'sse_duplicated', 'sse_out_of_order', 'sse_unexpected',
  'conservation', 'exactly_one_outcome', 'model_disagreement', 'server_error_on_client_error',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const PROPERTIES = [
  'conservation', 'ack_implies_stored', 'rejected_never_stored', 'nothing_unexpected',
  'lag_within_bound', 'validation_agrees_with_model', 'no_server_error_on_client_error', 'sse_once_in_order',
] as const;
export type PropertyName = (typeof PROPERTIES)[number];

/** Which property each category breaks; recovered breaks none. */
export const PROPERTY_OF: Record<Category, PropertyName | null> = {
  lost: 'ack_implies_stored',
  collapsed: 'ack_implies_stored',
  corrupted: 'ack_implies_stored',
  recovered: null,
  unexpected: 'nothing_unexpected',
  late: 'lag_within_bound',
  stored_after_reject: 'rejected_never_stored',
  sse_missing: 'sse_once_in_order',
  sse_duplicated: 'sse_once_in_order',
  sse_out_of_order: 'sse_once_in_order',
  sse_unexpected: 'sse_once_in_order',
  conservation: 'conservation',
  exactly_one_outcome: 'conservation',
  model_disagreement: 'validation_agrees_with_model',
  server_error_on_client_error: 'no_server_error_on_client_error',
};

export interface SampleVerdict {
  requestId: string;
  planIndex: number;
  label: string;
  /** How the request authenticated (for auth judgements). */
  apiKey: ApiKeyMode;
  outcome: OutcomeClass;
  status?: number;
  prediction: Prediction;
  /** Store key the body names, when it names one. */
  key?: string;
  /** Empty = nothing to report. */
  categories: Category[];
  /** First seen in the store minus sent time, when stored. */
  lagMs?: number;
  /** SSE client ids per SSE finding. */
  sse: { missing: string[]; duplicated: string[]; outOfOrder: string[] };
  details: string[];
}

export interface Violation {
  property: PropertyName;
  category: Category;
  requestIds: string[];
  message: string;
}

export interface Tally {
  planned: number;
  sent: number;
  acknowledged: number;
  rejected: number;
  unknown: number;
  noOutcome: number;
  storedKeys: number;
  sseClients: number;
  sseEvents: number;
}

export interface Verdict {
  runId: string;
  tally: Tally;
  perSample: SampleVerdict[];
  /** Stored points nobody sent. */
  unexpected: StoreRecord[];
  /** SSE events matching no acknowledged or in-doubt sample. */
  sseUnexpected: SseEventRecord[];
  counts: Record<Category, number>;
  violations: Violation[];
  /** Caveats about the observation itself (e.g. probe shorter than the lag bound). */
  notes: string[];
}

interface Entry {
  record: RequestRecord;
  cls: OutcomeClass;
  sample?: Sample;
  verdict: SampleVerdict;
}

export function check(history: History, contract: Contract): Verdict {
  const counts = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  const violations: Violation[] = [];
  const notes: string[] = [];
  const flag = (category: Category, requestIds: string[], message: string, property = PROPERTY_OF[category]): void => {
    counts[category]++;
    if (property) violations.push({ property, category, requestIds, message });
  };
  const mark = (e: Entry, category: Category, detail: string): void => {
    if (!e.verdict.categories.includes(category)) e.verdict.categories.push(category);
    e.verdict.details.push(detail);
    flag(category, [e.record.id], `${e.record.id} (${e.record.label}): ${detail}`);
  };

  // ---- Ledger 1: HTTP replies --------------------------------------------
  const predictions = predictHistory(history, contract);
  const entries: Entry[] = [];
  const byId = new Map<string, Entry>();
  const planIndices = new Set<number>();
  for (const record of history.requests) {
    if (byId.has(record.id) || planIndices.has(record.planIndex)) {
      flag('exactly_one_outcome', [record.id], `${record.id}: recorded more than once (plan index ${record.planIndex})`);
      continue;
    }
    const cls = outcomeClass(record.outcome, contract);
    const sample = sampleOf(record.body);
    const prediction = predictions.get(record.id) ?? { kind: 'accept' };
    const e: Entry = {
      record, cls, ...(sample ? { sample } : {}),
      verdict: {
        requestId: record.id, planIndex: record.planIndex, label: record.label, apiKey: record.apiKey, outcome: cls,
        ...(record.outcome?.kind === 'response' ? { status: record.outcome.status } : {}),
        prediction, ...(sample ? { key: sample.key } : {}),
        categories: [], sse: { missing: [], duplicated: [], outOfOrder: [] }, details: [],
      },
    };
    entries.push(e);
    byId.set(record.id, e);
    planIndices.add(record.planIndex);
    if (cls === 'none') mark(e, 'exactly_one_outcome', 'no outcome recorded');
    checkReply(e, contract, mark);
  }
  // A publisher policy may give a request up unsent: planned = sent + never sent.
  const neverSent = new Set((history.neverSent ?? []).map((n) => n.planIndex));
  for (let i = 0; i < history.plannedRequestCount; i++) {
    if (!planIndices.has(i) && !neverSent.has(i)) flag('conservation', [], `plan request ${i} was never sent`);
    if (planIndices.has(i) && neverSent.has(i)) flag('conservation', [], `plan request ${i} is recorded both as sent and as never sent`);
  }
  for (const i of planIndices) {
    if (i < 0 || i >= history.plannedRequestCount) flag('conservation', [], `request with plan index ${i} is not in the plan`);
  }

  // ---- Ledger 2: the store -------------------------------------------------
  const store = new Map<string, StoreRecord>();
  for (const s of history.store) {
    const k = storeKey(s);
    if (store.has(k)) notes.push(`store lists key ${JSON.stringify(k)} twice; the last entry is used`);
    store.set(k, s);
  }
  const lag = (e: Entry, s: StoreRecord): void => {
    const lagMs = s.firstSeenAtMs - e.record.sentAtMs;
    e.verdict.lagMs = lagMs;
    if (e.cls === 'acknowledged' && lagMs > contract.lagBoundMs) {
      mark(e, 'late', `first seen ${lagMs.toFixed(0)} ms after sending (bound ${contract.lagBoundMs} ms)`);
    }
  };
  const byKey = new Map<string, Entry[]>();
  for (const e of entries) {
    if (!e.sample) continue;
    const list = byKey.get(e.sample.key) ?? [];
    list.push(e);
    byKey.set(e.sample.key, list);
  }
  const lostOrUnseen: Entry[] = [];
  const unexplained: StoreRecord[] = [];
  for (const [key, s] of store) if (!byKey.has(key)) unexplained.push(s);
  for (const [key, group] of byKey) {
    const s = store.get(key);
    const inDoubt = (e: Entry) => e.cls === 'unknown' || e.cls === 'none';
    const live = group.filter((e) => e.cls === 'acknowledged' || inDoubt(e));
    const rejected = group.filter((e) => e.cls === 'rejected');
    if (!s) {
      lostOrUnseen.push(...live);
      continue;
    }
    const matches = (e: Entry) => fieldsEqual(e.sample!.fields, s.fields);
    if (live.length === 0) {
      if (rejected.length === 0) { unexplained.push(s); continue; }
      const culprits = rejected.some(matches) ? rejected.filter(matches) : rejected;
      for (const e of culprits) mark(e, 'stored_after_reject', `refused with ${e.verdict.status}, yet the store holds its key`);
      continue;
    }
    // A sample without pose or control can never be a point of its own:
    // whatever its key holds, it is lost (not collapsed, not corrupted).
    const storable = (e: Entry) => Object.keys(e.sample!.fields).length > 0;
    const markNothingToStore = (e: Entry) => {
      if (e.cls !== 'acknowledged' || storable(e)) return;
      mark(e, 'lost', `acknowledged, but it has no pose or control: nothing of it can be stored (its key ${describeKey(s)} holds other samples' values)`);
      violations.push({ property: 'lag_within_bound', category: 'lost', requestIds: [e.record.id], message: `${e.record.id}: not stored within the ${contract.lagBoundMs} ms lag bound` });
    };
    const survivors = live.filter(matches);
    if (survivors.length > 0) {
      const winner = survivors[survivors.length - 1]!;
      for (const e of survivors) {
        if (inDoubt(e)) mark(e, 'recovered', 'outcome unknown, yet stored');
        lag(e, s);
      }
      for (const e of live) {
        if (e.cls !== 'acknowledged' || matches(e)) continue;
        if (!storable(e)) markNothingToStore(e);
        else mark(e, 'collapsed', `overwritten by ${winner.record.id} (same key ${describeKey(s)})`);
      }
      continue;
    }
    const rejectedWinner = rejected.filter(matches);
    if (rejectedWinner.length > 0) {
      for (const e of rejectedWinner) mark(e, 'stored_after_reject', `refused with ${e.verdict.status}, yet its values are stored`);
      for (const e of live) {
        if (e.cls !== 'acknowledged') continue;
        if (!storable(e)) markNothingToStore(e);
        else mark(e, 'collapsed', `overwritten by refused ${rejectedWinner[0]!.record.id}`);
      }
      continue;
    }
    const contributors = live.filter(storable);
    if (contributors.length >= 2 && mergeExplains(contributors.map((e) => e.sample!.fields), s.fields)) {
      // The store merged the fields of several samples into one point (InfluxDB
      // does this for one series and time): each of them is collapsed.
      const ids = contributors.map((e) => e.record.id).join(', ');
      for (const e of contributors) {
        lag(e, s);
        if (e.cls === 'acknowledged') mark(e, 'collapsed', `merged with ${contributors.filter((x) => x !== e).map((x) => x.record.id).join(', ')} into one point ${describeKey(s)} ${JSON.stringify(s.fields)} (samples ${ids})`);
      }
      for (const e of live) markNothingToStore(e);
      continue;
    }
    const pool = contributors.length > 0 ? contributors : live;
    const last = [...pool].sort((a, b) => a.record.sentAtMs - b.record.sentAtMs)[pool.length - 1]!;
    for (const e of live) {
      if (!storable(e) && contributors.length > 0) markNothingToStore(e);
      else if (fieldsEqual(e.sample!.fields, last.sample!.fields)) {
        if (inDoubt(e)) mark(e, 'recovered', 'outcome unknown, yet stored');
        mark(e, 'corrupted', `stored values differ: ${describeMismatch(e.sample!, s)}`);
        lag(e, s);
      } else if (e.cls === 'acknowledged') {
        mark(e, 'collapsed', `key ${describeKey(s)} holds another sample's (corrupted) values`);
      }
    }
  }
  // Pair what was not found with what nobody sent: same ms, same values.
  const unpaired = new Set(unexplained);
  const byMs = new Map<number, StoreRecord[]>();
  for (const s of unexplained) byMs.set(s.timeMs, [...(byMs.get(s.timeMs) ?? []), s]);
  for (const e of lostOrUnseen.sort((a, b) => a.record.sentAtMs - b.record.sentAtMs)) {
    const twin = byMs.get(e.sample!.timeMs)?.find((s) => unpaired.has(s) && fieldsEqual(e.sample!.fields, s.fields));
    if (twin) {
      unpaired.delete(twin);
      if (e.cls !== 'acknowledged') mark(e, 'recovered', 'outcome unknown, yet stored');
      mark(e, 'corrupted', `stored under vehicle_id ${twin.vehicleId === null ? '(no tag)' : JSON.stringify(twin.vehicleId)} instead of ${JSON.stringify(e.sample!.vehicleId)}`);
      lag(e, twin);
    } else if (e.cls === 'acknowledged') {
      // No pose and no control: no store can hold it, so how long we watched does not matter.
      const neverStorable = Object.keys(e.sample!.fields).length === 0;
      mark(e, 'lost', neverStorable
        ? 'acknowledged, but it has no pose or control: nothing of it can be stored'
        : `acknowledged, never stored (probe ran until ${(history.probeEndedAtMs - e.record.sentAtMs).toFixed(0)} ms after sending)`);
      if (neverStorable || history.probeEndedAtMs - e.record.sentAtMs >= contract.lagBoundMs) {
        violations.push({ property: 'lag_within_bound', category: 'lost', requestIds: [e.record.id], message: `${e.record.id}: not stored within the ${contract.lagBoundMs} ms lag bound` });
      }
    }
  }
  const shortWatch = entries.filter((e) => e.verdict.categories.includes('lost') && e.sample && Object.keys(e.sample.fields).length > 0
    && history.probeEndedAtMs - e.record.sentAtMs < contract.lagBoundMs);
  if (shortWatch.length > 0) notes.push(`${shortWatch.length} lost sample(s) were watched for less than the lag bound (drain too short)`);
  // Acknowledged samples whose body names no key (e.g. a non-string vehicle_id) cannot be stored.
  for (const e of entries) {
    if (e.cls === 'acknowledged' && !e.sample) mark(e, 'lost', 'acknowledged, but the body names no storable key (vehicle_id/timestamp)');
  }
  const unexpected = [...unpaired];
  for (const s of unexpected) flag('unexpected', [], `stored ${describeKey(s)} ${JSON.stringify(s.fields)} matches nothing sent`);

  // ---- Ledger 3: SSE -------------------------------------------------------
  const sseUnexpected = checkSse(history, entries, mark, (ev, why, ids) => flag('sse_unexpected', ids, `client ${ev.clientId} at ${ev.atMs.toFixed(0)}: ${why}`));

  const tally: Tally = {
    planned: history.plannedRequestCount,
    sent: entries.length,
    acknowledged: entries.filter((e) => e.cls === 'acknowledged').length,
    rejected: entries.filter((e) => e.cls === 'rejected').length,
    unknown: entries.filter((e) => e.cls === 'unknown').length,
    noOutcome: entries.filter((e) => e.cls === 'none').length,
    storedKeys: store.size,
    sseClients: history.sseClients.length,
    sseEvents: history.sseEvents.length,
  };
  return { runId: history.runId, tally, perSample: entries.map((e) => e.verdict), unexpected, sseUnexpected: sseUnexpected, counts, violations, notes };
}

type Mark = (e: Entry, category: Category, detail: string) => void;

/** Ledger 1 for one request: does the reply agree with the model? */
function checkReply(e: Entry, contract: Contract, mark: Mark): void {
  const out = e.record.outcome;
  if (out?.kind !== 'response') return;
  const p = e.verdict.prediction;
  const s = out.status;
  const options = refusalOptions(p);
  const said = (what: string) => (p.kind === 'accept' ? 'accept' : p.kind === 'reject' ? `reject ${p.status} ${p.reason}` : `either (${p.why.join(', ')})`) + what;
  if (s >= 200 && s < 300) {
    if (p.kind === 'reject') mark(e, 'model_disagreement', `acknowledged with ${s}; model says ${said('')}`);
    return;
  }
  if (s >= 400 && s < 500) {
    if (p.kind === 'accept') { mark(e, 'model_disagreement', `refused with ${s} ${replyMessage(out.body) ?? ''}; model says accept`.trim()); return; }
    const same = options.filter((o) => o.status === s);
    if (same.length === 0) {
      mark(e, 'model_disagreement', `refused with ${s}; model says ${said('')}, statuses ${[...new Set(options.map((o) => o.status))].join('/')}`);
      return;
    }
    if (contract.checkRejectMessages && same.every((o) => o.message)) {
      const msg = replyMessage(out.body);
      if (msg === undefined || !same.some((o) => messageMatches(o.message!, msg))) {
        mark(e, 'model_disagreement', `refused with ${s} but message ${JSON.stringify(msg ?? out.body.slice(0, 80))} is not the contract's for ${same.map((o) => o.reason).join('/')}`);
      }
    }
    return;
  }
  if (s >= 500 && s < 600) {
    if (contract.definiteServerRejectStatuses.includes(s)) return;
    if (p.kind === 'reject' || (p.kind === 'either' && p.clientFault)) {
      mark(e, 'server_error_on_client_error', `answered ${s} to a client error; model says ${said('')}`);
    }
    return;
  }
  mark(e, 'model_disagreement', `unexpected status ${s}`);
}

function replyMessage(body: string): string | undefined {
  const p = tryParseJson(body);
  return p.ok && isPlainObject(p.value) && typeof p.value['message'] === 'string' ? p.value['message'] : undefined;
}

/**
 * Do the stored values come from merging these samples' fields (union of
 * fields, each value from one of the samples that has that field)?
 */
export function mergeExplains(samples: PointFields[], stored: Readonly<Record<string, unknown>>): boolean {
  const union = new Set<string>(samples.flatMap((f) => Object.keys(f)));
  for (const field of FIELD_NAMES) {
    const v = stored[field];
    if (!union.has(field)) { if (v !== undefined) return false; continue; }
    if (!samples.some((f) => f[field] !== undefined && fieldsEqual({ [field]: f[field] }, { [field]: v }))) return false;
  }
  return true;
}

function describeKey(s: StoreRecord): string {
  return `${s.vehicleId === null ? '(no tag)' : JSON.stringify(s.vehicleId)}@${s.timeMs}`;
}

function describeMismatch(sample: Sample, s: StoreRecord): string {
  return fieldMismatches(sample.fields, s.fields).map((m) => `${m.field} sent ${String(m.sent)} stored ${String(m.stored)}`).join(', ');
}

/**
 * Ledger 3. Per client and per distinct payload (canonical JSON without
 * serverReceiveTime): every acknowledged sample sent after the client
 * connected and answered before it disconnected must arrive (else missing);
 * no more copies than acknowledged-or-in-doubt sends (else duplicated);
 * payloads nobody sent, or only refused, are unexpected. Order: for one
 * vehicle, if sample b was answered before sample a was sent, b's event
 * must come first (else b is out of order).
 */
function checkSse(history: History, entries: Entry[], mark: Mark, unexpected: (ev: SseEventRecord, why: string, requestIds: string[]) => void): SseEventRecord[] {
  const extra: SseEventRecord[] = [];
  const groups = new Map<string, Entry[]>();
  for (const e of entries) {
    const p = tryParseJson(e.record.body);
    if (!p.ok || !isPlainObject(p.value)) continue;
    const c = canonicalJson(p.value);
    const list = groups.get(c) ?? [];
    list.push(e);
    groups.set(c, list);
  }
  for (const list of groups.values()) list.sort((a, b) => a.record.sentAtMs - b.record.sentAtMs);

  const clients = new Map(history.sseClients.map((c) => [c.clientId, c]));
  const eventsByClient = new Map<string, SseEventRecord[]>();
  for (const ev of history.sseEvents) {
    if (!clients.has(ev.clientId)) clients.set(ev.clientId, { clientId: ev.clientId, connectedAtMs: -Infinity });
    const list = eventsByClient.get(ev.clientId) ?? [];
    list.push(ev);
    eventsByClient.set(ev.clientId, list);
  }

  for (const client of clients.values()) {
    const events = [...(eventsByClient.get(client.clientId) ?? [])].sort((a, b) => a.atMs - b.atMs);
    const received = new Map<string, SseEventRecord[]>();
    for (const ev of events) {
      const p = tryParseJson(ev.data);
      if (!p.ok || !isPlainObject(p.value)) { extra.push(ev); unexpected(ev, 'event is not a JSON object', []); continue; }
      const { serverReceiveTime: _t, ...payload } = p.value;
      const c = canonicalJson(payload);
      const list = received.get(c) ?? [];
      list.push(ev);
      received.set(c, list);
    }
    const delivered: Array<{ ev: SseEventRecord; e: Entry }> = [];
    const until = client.disconnectedAtMs ?? Infinity;
    const canonicals = new Set([...groups.keys(), ...received.keys()]);
    for (const c of canonicals) {
      const group = groups.get(c) ?? [];
      const got = received.get(c) ?? [];
      const live = group.filter((e) => e.cls === 'acknowledged' || e.cls === 'unknown' || e.cls === 'none');
      if (live.length === 0) {
        // Name the refused requests, so views such as the auth judge see them.
        for (const ev of got) { extra.push(ev); unexpected(ev, group.length > 0 ? `broadcast of refused ${group.map((e) => e.record.id).join(', ')}` : 'payload nobody sent', group.map((e) => e.record.id)); }
        continue;
      }
      const required = live.filter((e) => e.cls === 'acknowledged' && e.record.sentAtMs >= client.connectedAtMs && (e.record.outcome?.atMs ?? Infinity) <= until);
      for (const e of required.slice(got.length)) {
        e.verdict.sse.missing.push(client.clientId);
        mark(e, 'sse_missing', `never delivered to SSE client ${client.clientId}`);
      }
      for (let i = live.length; i < got.length; i++) {
        const e = live[live.length - 1]!;
        e.verdict.sse.duplicated.push(client.clientId);
        mark(e, 'sse_duplicated', `delivered ${got.length} times (sent ${live.length}) to SSE client ${client.clientId}`);
      }
      got.slice(0, live.length).forEach((ev, i) => delivered.push({ ev, e: live[i]! }));
    }
    // Order, per vehicle, against real-time precedence.
    delivered.sort((a, b) => a.ev.atMs - b.ev.atMs);
    const latestSent = new Map<string, { sentAtMs: number; id: string }>();
    for (const { e } of delivered) {
      const vehicle = e.sample?.vehicleId ?? `#${e.record.vehicle}`;
      const before = latestSent.get(vehicle);
      const answeredAt = e.cls === 'acknowledged' ? e.record.outcome?.atMs : undefined;
      if (before && answeredAt !== undefined && answeredAt < before.sentAtMs) {
        e.verdict.sse.outOfOrder.push(client.clientId);
        mark(e, 'sse_out_of_order', `delivered to SSE client ${client.clientId} after ${before.id}, which was sent after this one was answered`);
      }
      if (!before || e.record.sentAtMs > before.sentAtMs) latestSent.set(vehicle, { sentAtMs: e.record.sentAtMs, id: e.record.id });
    }
  }
  return extra;
}

export interface PropertyResult {
  ok: boolean;
  /** One line per violation of this property. */
  details: string[];
  violations: Violation[];
}

function property(v: Verdict, name: PropertyName): PropertyResult {
  const violations = v.violations.filter((x) => x.property === name);
  return { ok: violations.length === 0, details: violations.map((x) => `[${x.category}] ${x.message}`), violations };
}

/** sent = acknowledged + rejected + unknown, every planned request sent once, one outcome each. */
export const conservationHolds = (v: Verdict): PropertyResult => property(v, 'conservation');
/** Acknowledged ⇒ stored exactly: no lost, collapsed or corrupted sample. */
export const ackImpliesStored = (v: Verdict): PropertyResult => property(v, 'ack_implies_stored');
export const rejectedNeverStored = (v: Verdict): PropertyResult => property(v, 'rejected_never_stored');
export const nothingUnexpected = (v: Verdict): PropertyResult => property(v, 'nothing_unexpected');
/** Every acknowledged sample stored within lagBoundMs (a lost one watched that long fails too). */
export const lagWithinBound = (v: Verdict): PropertyResult => property(v, 'lag_within_bound');
export const validationAgreesWithModel = (v: Verdict): PropertyResult => property(v, 'validation_agrees_with_model');
export const noServerErrorOnClientError = (v: Verdict): PropertyResult => property(v, 'no_server_error_on_client_error');
export const sseDeliversOnceInOrder = (v: Verdict): PropertyResult => property(v, 'sse_once_in_order');

/** All properties at once. */
export function allPropertiesHold(v: Verdict): PropertyResult {
  return { ok: v.violations.length === 0, details: v.violations.map((x) => `${x.property} [${x.category}] ${x.message}`), violations: v.violations };
}
