/**
 * The named properties, each a judge over the checker's verdict plus the
 * plans it is tried on. Shared by the user-facing suite
 * (contract.prop.test.ts) and the framework's self-tests.
 */
import fc from 'fast-check';
import type { Contract } from '../models/contract';
import {
  ackImpliesStored,
  conservationHolds,
  lagWithinBound,
  noServerErrorOnClientError,
  nothingUnexpected,
  rejectedNeverStored,
  sseDeliversOnceInOrder,
  validationAgreesWithModel,
  type PropertyName,
  type PropertyResult,
  type Verdict,
} from '../models/checker';
import type { Plan } from '../models/plan';
import { arbPlan, QUICK_PROFILE } from './arbitraries';

export interface PropertyDefinition {
  name: PropertyName;
  /** One line for the test title. */
  title: string;
  judge: (v: Verdict) => PropertyResult;
  plans: (contract: Contract) => fc.Arbitrary<Plan>;
}

const validPlans = () => arbPlan({ ...QUICK_PROFILE, hostile: 'none' });
const mixedPlans = () => arbPlan({ ...QUICK_PROFILE, hostile: 'all', hostileWeight: 1 });

export const PROPERTY_CATALOGUE: PropertyDefinition[] = [
  { name: 'conservation', title: 'conservation: sent = acknowledged + rejected + unknown, one outcome each', judge: conservationHolds, plans: mixedPlans },
  { name: 'ack_implies_stored', title: 'acknowledged ⇒ stored exactly', judge: ackImpliesStored, plans: validPlans },
  { name: 'rejected_never_stored', title: 'rejected ⇒ never stored', judge: rejectedNeverStored, plans: mixedPlans },
  { name: 'nothing_unexpected', title: 'nothing stored that was not sent', judge: nothingUnexpected, plans: mixedPlans },
  { name: 'lag_within_bound', title: 'acknowledged samples stored within the lag bound', judge: lagWithinBound, plans: validPlans },
  { name: 'validation_agrees_with_model', title: 'validation agrees with the model', judge: validationAgreesWithModel, plans: mixedPlans },
  { name: 'no_server_error_on_client_error', title: 'hostile input never gives 5xx', judge: noServerErrorOnClientError, plans: mixedPlans },
  { name: 'sse_once_in_order', title: 'SSE delivers each acknowledged sample once, in order', judge: sseDeliversOnceInOrder, plans: validPlans },
];
