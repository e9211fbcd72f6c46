import { describe, expect, it } from 'vitest';
import { faultEnd } from './faults';
import { chaosPlanDurationMs } from './chaosPlan';
import { DEFAULT_SOAK, SoakOptionsError, soakCommand, soakPlan, validateSoak } from './soak';

const opts = { ...DEFAULT_SOAK, seed: 42 };

describe('chaos soak plan', () => {
  it('holds the requested kills, one outage longer than the legacy budget and the stalls, each with a crash inside', () => {
    const cp = soakPlan(opts);
    const kills = cp.faults.filter((f) => f.kind === 'kill');
    const outages = cp.faults.filter((f) => f.kind === 'outage');
    const stalls = cp.faults.filter((f) => f.kind === 'pause');
    expect(kills.length).toBe(opts.kills + opts.stalls);
    expect(outages).toHaveLength(1);
    expect(outages[0]!.duration).toBeGreaterThan(180_000);
    expect(stalls).toHaveLength(opts.stalls);
    for (const s of stalls) expect(kills.some((k) => k.at > s.at && k.at < faultEnd(s))).toBe(true);
    // Kills during the outage: crashes while InfluxDB is away.
    expect(kills.filter((k) => k.at > outages[0]!.at && k.at < faultEnd(outages[0]!)).length).toBeGreaterThan(10);
  });

  it('never starts a kill before the previous restart plus the gap, and publishes past the last fault', () => {
    const cp = soakPlan(opts);
    const kills = cp.faults.filter((f) => f.kind === 'kill').sort((a, b) => a.at - b.at);
    for (let i = 1; i < kills.length; i++) expect(kills[i]!.at).toBeGreaterThanOrEqual(faultEnd(kills[i - 1]!) + opts.killGapMs);
    const lastFault = Math.max(...cp.faults.map(faultEnd));
    expect(cp.plan.requests.at(-1)!.atMs).toBeGreaterThan(lastFault);
    expect(chaosPlanDurationMs(cp)).toBeGreaterThan(opts.outageMs);
  });

  it('is a pure function of the seed', () => {
    expect(soakPlan(opts)).toEqual(soakPlan(opts));
    expect(soakPlan({ ...opts, seed: 43 }).faults).not.toEqual(soakPlan(opts).faults);
    expect(soakCommand(opts)).toMatch(/^npm run chaos:soak -- --seed 42 --kills 100 /);
    // The backend it ran against travels with the replay; secrets never do.
    expect(soakCommand(opts, { TP_BACKEND_MODE: 'legacy', TP_FLUSH_INTERVAL_MS: '1000', TP_API_KEY: 'secret' }))
      .toMatch(/^TP_BACKEND_MODE=legacy TP_FLUSH_INTERVAL_MS=1000 npm run chaos:soak -- --seed 42 /);
    expect(soakCommand(opts, { TP_API_KEY: 'secret' })).not.toContain('secret');
  });

  it('refuses bad options with every problem named', () => {
    expect(() => validateSoak({ ...opts, kills: -1, rateHz: 0 })).toThrow(SoakOptionsError);
    const message = (() => {
      try {
        validateSoak({ ...opts, kills: 1.5, rateHz: 0, killDownMs: { min: 500, max: 100 } });
        return '(accepted)';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).toMatch(/--kills 1.5/);
    expect(message).toMatch(/--rate 0/);
    expect(message).toMatch(/--kill-down-max-ms 100/);
    expect(() => validateSoak({ ...opts, kills: 0, stalls: 0, outageMs: 0 })).toThrow(/nothing to inject/);
  });
});
