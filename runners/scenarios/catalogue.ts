/**
 * The named scenarios: the seed's suggested test matrix ("Suggested Test
 * Scenarios" in stress-test-issue.txt) as data. Default durations are a few
 * seconds so the whole catalogue fits CI; `--duration` (or a config file)
 * makes them real.
 *
 * Payload default: `typical` (pose, control and a 500-point trajectory),
 * which is what the Jetson sends; the payload group varies it.
 */
import { ScenarioSchema, type Scenario, type ScenarioInput } from './schema';

const DEFAULT_MS = 5000;

const RAW: ScenarioInput[] = [
  { name: 'baseline-1hz', group: 'baseline', description: 'Baseline: one Jetson at 1 Hz (its default publish interval).', rateHz: 1, durationMs: DEFAULT_MS },
  { name: 'sustained-10hz', group: 'rate', description: 'Sustained 10 Hz, the rate the Jetson should reach (typical payload: pose, control, 500-point trajectory, ~9 kB).', rateHz: 10, durationMs: DEFAULT_MS },
  { name: 'rate-20hz', group: 'rate', description: 'Sustained 20 Hz.', rateHz: 20, durationMs: DEFAULT_MS },
  { name: 'rate-50hz', group: 'rate', description: 'Sustained 50 Hz.', rateHz: 50, durationMs: DEFAULT_MS },
  { name: 'rate-100hz', group: 'rate', description: 'Sustained 100 Hz.', rateHz: 100, durationMs: DEFAULT_MS },
  { name: 'rate-200hz', group: 'rate', description: 'Sustained 200 Hz.', rateHz: 200, durationMs: DEFAULT_MS },
  {
    name: 'burst-10hz', group: 'burst', rateHz: 10, durationMs: DEFAULT_MS,
    description: 'Bursts: 10 Hz with a 1 s spike at 30× (300 Hz) every 5 s.',
    spikes: { firstAtMs: 2000, everyMs: 5000, durationMs: 1000, multiplier: 30 },
  },
  { name: 'soak-10hz', group: 'soak', description: 'Soak: 10 Hz for a long time, to see drift, memory growth and delayed failures.', rateHz: 10, durationMs: 15_000 },
  { name: 'sse1-10hz', group: 'sse', description: '10 Hz with 1 SSE client.', rateHz: 10, durationMs: DEFAULT_MS, sseClients: 1 },
  { name: 'sse10-10hz', group: 'sse', description: '10 Hz with 10 SSE clients.', rateHz: 10, durationMs: DEFAULT_MS, sseClients: 10 },
  { name: 'sse1-100hz', group: 'sse', description: '100 Hz with 1 SSE client.', rateHz: 100, durationMs: DEFAULT_MS, sseClients: 1 },
  { name: 'sse10-100hz', group: 'sse', description: '100 Hz with 10 SSE clients.', rateHz: 100, durationMs: DEFAULT_MS, sseClients: 10 },
  {
    name: 'sse10-stalled-100hz', group: 'sse', rateHz: 100, durationMs: DEFAULT_MS, sseClients: 10, sseReader: 'stalled',
    description: '100 Hz with 10 SSE clients that stop reading: the backend writes to them ignoring back-pressure.',
  },
  { name: 'net-lan-10hz', group: 'network', description: '10 Hz over a LAN-like link (1 ± 1 ms each way).', rateHz: 10, durationMs: DEFAULT_MS, network: 'lan' },
  { name: 'net-wifi-10hz', group: 'network', description: '10 Hz over a Wi-Fi-like link (20 ± 15 ms each way).', rateHz: 10, durationMs: DEFAULT_MS, network: 'wifi' },
  { name: 'net-flaky-10hz', group: 'network', description: '10 Hz over Wi-Fi-like latency with connection resets (400 ms every 5 s).', rateHz: 10, durationMs: DEFAULT_MS, network: 'flaky' },
  { name: 'payload-minimal-10hz', group: 'payload', description: '10 Hz, minimal payload (pose + control, ~120 B).', rateHz: 10, durationMs: DEFAULT_MS, payload: 'minimal' },
  { name: 'payload-heavy-10hz', group: 'payload', description: '10 Hz, heavy payload (trajectory + 2 × 1500-point track, ~62 kB).', rateHz: 10, durationMs: DEFAULT_MS, payload: 'heavy' },
];

export const SCENARIOS: readonly Scenario[] = RAW.map((s) => ScenarioSchema.parse(s));

/** The seed's whole matrix, in the order findings.md discusses it. */
export const DEFAULT_MATRIX: readonly string[] = SCENARIOS.map((s) => s.name);

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}
