import { describe, expect, it } from 'vitest';
import { parseSchedule, scheduleProblems } from '../../chaos/faults';
import { DEFAULT_MATRIX, SCENARIOS, findScenario } from './catalogue';
import { NETWORK_PROFILES, networkSchedule, resetWindows } from './networkProfiles';
import { applyOverrides, parseDuration, ScenarioError } from './overrides';
import { burstsOf, ScenarioSchema } from './schema';

describe('scenario catalogue', () => {
  it('holds the seed\'s matrix: baseline, 10 Hz, 20–200 Hz, burst, soak, SSE 0/1/10, network and payload profiles', () => {
    const names = SCENARIOS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(DEFAULT_MATRIX).toEqual(names);
    expect(SCENARIOS.filter((s) => s.group === 'rate').map((s) => s.rateHz)).toEqual([10, 20, 50, 100, 200]);
    expect(findScenario('baseline-1hz')!.rateHz).toBe(1);
    expect(SCENARIOS.some((s) => s.group === 'burst' && s.spikes)).toBe(true);
    expect(SCENARIOS.some((s) => s.group === 'soak')).toBe(true);
    expect(new Set(SCENARIOS.map((s) => s.sseClients))).toEqual(new Set([0, 1, 10]));
    expect(new Set(SCENARIOS.map((s) => s.network))).toEqual(new Set(['loopback', 'lan', 'wifi', 'flaky']));
    expect(new Set(SCENARIOS.map((s) => s.payload))).toEqual(new Set(['minimal', 'typical', 'heavy']));
  });

  it('defaults fit CI: every scenario publishes for at most 15 s', () => {
    for (const s of SCENARIOS) expect(s.durationMs, s.name).toBeLessThanOrEqual(15_000);
  });
});

describe('overrides', () => {
  const base = findScenario('sustained-10hz')!;

  it('parses durations with units, a bare number being seconds', () => {
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2.5m')).toBe(150_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('12')).toBe(12_000);
    expect(() => parseDuration('3 weeks')).toThrow(ScenarioError);
  });

  it('applies layers left to right and keeps the other fields', () => {
    const s = applyOverrides(base, [
      { label: 'config', overrides: { durationMs: 20_000, sseClients: 1 } },
      { label: 'flags', overrides: { sseClients: 10, network: 'wifi' } },
    ]);
    expect(s).toMatchObject({ name: 'sustained-10hz', rateHz: 10, durationMs: 20_000, sseClients: 10, network: 'wifi', payload: 'typical' });
  });

  it('names the field and the layer of a bad value, and refuses unknown fields', () => {
    expect(() => applyOverrides(base, [{ label: '--rate', overrides: { rateHz: -1 } }])).toThrow(/--rate\.rateHz/);
    expect(() => applyOverrides(base, [{ label: 'config file', overrides: { rate: 5 } }])).toThrow(/config file.*rate/);
    expect(() => applyOverrides(base, [{ label: 'x', overrides: { network: 'satellite' } }])).toThrow(/network/);
  });

  it('expands repeating spikes over the duration, so --duration keeps them', () => {
    const burst = findScenario('burst-10hz')!;
    expect(burstsOf(burst)).toEqual([{ startMs: 2000, durationMs: 1000, multiplier: 30 }]);
    const long = applyOverrides(burst, [{ label: 'flags', overrides: { durationMs: 15_000 } }]);
    expect(burstsOf(long).map((b) => b.startMs)).toEqual([2000, 7000, 12_000]);
    expect(() => ScenarioSchema.parse({ ...burst, spikes: { firstAtMs: 0, everyMs: 1000, durationMs: 1000, multiplier: 2 } })).toThrow(/shorter/);
  });
});

describe('network profiles', () => {
  const w = { leadMs: 300, durationMs: 12_000, tailMs: 2000, seed: 7 };

  it('loopback plays no fault', () => {
    expect(networkSchedule(NETWORK_PROFILES.loopback, w)).toEqual([]);
  });

  it('wifi is one seeded-jitter latency toxic on ingest covering lead + run + tail, valid for the nemesis', () => {
    const s = networkSchedule(NETWORK_PROFILES.wifi, w);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ kind: 'latency', target: 'ingest', at: 0, duration: 14_300, params: { latencyMs: 20, jitterMs: 15, stream: 'both' } });
    expect(parseSchedule(s)).toHaveLength(1);
    // Seeded: the same seed gives the same jitter.
    expect(networkSchedule(NETWORK_PROFILES.wifi, w)).toEqual(s);
    expect(networkSchedule(NETWORK_PROFILES.wifi, { ...w, seed: 8 })).not.toEqual(s);
  });

  it('flaky alternates latency and reset windows on one proxy without overlap', () => {
    const s = networkSchedule(NETWORK_PROFILES.flaky, w);
    expect(scheduleProblems(s)).toEqual([]);
    const resets = s.filter((f) => f.kind === 'reset_peer');
    expect(resets.map((f) => [f.at, f.duration])).toEqual([[2300, 400], [7300, 400]]);
    expect(resetWindows(NETWORK_PROFILES.flaky, 12_000)).toEqual([{ startMs: 2000, endMs: 2400 }, { startMs: 7000, endMs: 7400 }]);
    // Latency covers every gap: the faults tile [0, lead + duration + tail).
    const sorted = [...s].sort((a, b) => a.at - b.at);
    let cursor = 0;
    for (const f of sorted) { expect(f.at).toBe(cursor); cursor = f.at + f.duration; }
    expect(cursor).toBe(14_300);
  });
});
