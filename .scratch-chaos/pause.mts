import { buildChaosPlan } from '../chaos/chaosPlan';
import { executeChaosPlan } from '../runners/chaosRun';
import { DEFAULT_CONTRACT } from '../models/contract';
import { describeStages } from '../models/stages';
import { COMPRESSED_PUBLISHER } from '../chaos/profiles';
import { ownChaosTarget } from '../properties/engine/chaosSelfTest';
const SCALED = { INFLUX_MAX_RETRIES: '2', INFLUX_MIN_RETRY_DELAY_MS: '100', INFLUX_MAX_RETRY_DELAY_MS: '300', INFLUX_MAX_RETRY_TIME_MS: '1500', INFLUX_MAX_BUFFER_LINES: '30' };
const t = await ownChaosTarget({ kind: 'reference', mode: 'legacy', flushIntervalMs: 200, env: SCALED });
try {
  const cp = buildChaosPlan({ runId: 'pause000', payloadSeed: 1, trajectoryPoints: 0, policy: 'jetson', stalledSseClients: 0,
    vehicles: [{ rateHz: 10, startDelayMs: 0, slots: [0, 1, 2] }], faults: [{ kind: 'pause', target: 'influxd', at: 100, duration: 12_000, params: {} }] });
  const a = await executeChaosPlan(cp, t.env, { contract: DEFAULT_CONTRACT, publisher: COMPRESSED_PUBLISHER, recoveryBoundMs: 5000, drainBoundMs: 3000 });
  console.log(describeStages(a.stages));
  console.log(a.history.backendEvents?.map((e) => `${e.kind}${e.reason ? '/' + e.reason : ''}@${Math.round(e.atMs - a.history.startedAtMs)} ${e.detail ?? ''}`).join('\n'));
} finally { await t.stop(); }
