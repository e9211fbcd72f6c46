import fc from 'fast-check';
import { chaosPlanArb } from '../chaos/chaosPlan';
import { healingNetworkFaults } from '../chaos/profiles';
const count: Record<string, number> = {};
const pol: Record<string, number> = {};
for (let seed = 1; seed <= 50; seed++) {
  const [c] = fc.sample(chaosPlanArb(healingNetworkFaults()), { seed, numRuns: 1 });
  for (const f of c!.faults) count[`${f.target}:${f.kind}`] = (count[`${f.target}:${f.kind}`] ?? 0) + 1;
  pol[c!.policy] = (pol[c!.policy] ?? 0) + 1;
}
console.log(JSON.stringify(count), JSON.stringify(pol));
