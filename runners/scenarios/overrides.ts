/**
 * Overriding scenario fields: from a config file (defaults for every
 * scenario, then per scenario) and from CLI flags, in that order, each layer
 * validated so an error names the field and where it came from.
 */
import { z } from 'zod';
import { ScenarioSchema, type Scenario } from './schema';

/** Any subset of a scenario's fields except its name. */
export const ScenarioOverridesSchema = ScenarioSchema.omit({ name: true }).partial();
export type ScenarioOverrides = z.input<typeof ScenarioOverridesSchema>;

export class ScenarioError extends Error {}

/** "1500ms", "30s", "2.5m", "1h", or a bare number of seconds → ms. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/i.exec(text);
  if (!m) throw new ScenarioError(`cannot read duration ${JSON.stringify(text)}: use e.g. 1500ms, 30s, 2m or 1h`);
  const v = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000;
  return Math.round(v * factor);
}

function issues(err: z.ZodError, where: string): string {
  return err.issues.map((i) => `${where}${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`).join('; ');
}

/**
 * Apply layers of overrides to a scenario, left to right. `label` names each
 * layer in errors (e.g. "config defaults", "--rate").
 */
export function applyOverrides(base: Scenario, layers: { label: string; overrides: unknown }[]): Scenario {
  let current: Scenario = base;
  for (const { label, overrides } of layers) {
    if (overrides === undefined || overrides === null) continue;
    const parsed = ScenarioOverridesSchema.safeParse(overrides);
    if (!parsed.success) throw new ScenarioError(`scenario ${base.name}: ${issues(parsed.error, label)}`);
    // Only the keys the layer really set (a partial parse leaves the others undefined).
    const set = Object.fromEntries(Object.entries(overrides as Record<string, unknown>).filter(([, v]) => v !== undefined));
    const merged = ScenarioSchema.safeParse({ ...current, ...set });
    if (!merged.success) throw new ScenarioError(`scenario ${base.name}: ${issues(merged.error, label)}`);
    current = merged.data;
  }
  return current;
}

/** A scenario defined from scratch (config file), validated. */
export function parseScenario(data: unknown, label: string): Scenario {
  const r = ScenarioSchema.safeParse(data);
  if (!r.success) throw new ScenarioError(issues(r.error, label));
  return r.data;
}
