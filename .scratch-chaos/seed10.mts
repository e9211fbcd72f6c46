import fc from 'fast-check';
import { chaosPlanArb, describeChaosPlan } from '/work/main/chaos/chaosPlan';
import { healingNetworkFaults, runOptions, LIBRARY_FIRST_RETRY_MS } from '/work/main/chaos/profiles';
import { executeChaosPlan } from '/work/main/runners/chaosRun';
import { DEFAULT_CONTRACT } from '/work/main/models/contract';
import { describeStages } from '/work/main/models/stages';
import { ownChaosTarget } from '/work/main/properties/engine/chaosSelfTest';
const [cp] = fc.sample(chaosPlanArb(healingNetworkFaults()), { seed: 10, numRuns: 1 });
console.log(describeChaosPlan(cp!));
console.log(JSON.stringify(cp!.faults));
const t = await ownChaosTarget({ kind: 'reference', mode: 'legacy', flushIntervalMs: 200 });
try {
  const a = await executeChaosPlan(cp!, t.env, { ...runOptions(DEFAULT_CONTRACT, { drainBoundMs: LIBRARY_FIRST_RETRY_MS + 2000 }), onEvent: (l) => console.log(l) });
  console.log(describeStages(a.stages), a.recovery, a.nemesis?.heal);
  for (const r of a.nemesis!.records) console.log(r.description, r.problems);
  const tp = await fetch(t.env.info.toxiproxy!.url + '/version').then((r) => r.text()).catch((e) => 'DEAD ' + e.message);
  console.log('toxiproxy', tp);
  const { readFileSync } = await import('node:fs');
  console.log(readFileSync(t.env.info.logsDir + '/toxiproxy.log', 'utf8').split('\n').slice(-60).join('\n'));
} finally { await t.stop(); }
