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
  type PropertyResult,
  type Verdict,
} from '../models/checker';
import type { Plan } from '../models/plan';
import { arbPlan, QUICK_PROFILE } from './arbitraries';
import { authEnforced } from './judges';

export interface PropertyDefinition {
  /** A checker property name, or a view of them such as auth_enforced. */
  name: string;
  /** One line for the test title. */
  title: string;
  judge: (v: Verdict) => PropertyResult;
  plans: (contract: Contract) => fc.Arbitrary<Plan>;
  /**
   * How long to watch the store after the last reply, for properties that
   * do not judge the store (replies only; SSE events arrive before the
   * reply). Unset: the lag bound plus the profile's margin.
   */
  drainMs?: number;
}

const validPlans = () => arbPlan({ ...QUICK_PROFILE, hostile: 'none' });
const mixedPlans = () => arbPlan({ ...QUICK_PROFILE, hostile: 'all', hostileWeight: 1 });
const authPlans = () => arbPlan({ ...QUICK_PROFILE, hostile: ['apiKeyMissing', 'apiKeyWrong'], hostileWeight: 3 });

export const PROPERTY_CATALOGUE: PropertyDefinition[] = [
  { name: 'conservation', title: 'conservation: sent = acknowledged + rejected + unknown, one outcome each', judge: conservationHolds, plans: mixedPlans, drainMs: 0 },
  { name: 'ack_implies_stored', title: 'acknowledged ⇒ stored exactly', judge: ackImpliesStored, plans: validPlans },
  { name: 'rejected_never_stored', title: 'rejected ⇒ never stored', judge: rejectedNeverStored, plans: mixedPlans },
  { name: 'nothing_unexpected', title: 'nothing stored that was not sent', judge: nothingUnexpected, plans: mixedPlans },
  { name: 'lag_within_bound', title: 'acknowledged samples stored within the lag bound', judge: lagWithinBound, plans: validPlans },
  { name: 'validation_agrees_with_model', title: 'validation agrees with the model', judge: validationAgreesWithModel, plans: mixedPlans, drainMs: 0 },
  { name: 'no_server_error_on_client_error', title: 'hostile input never gives 5xx', judge: noServerErrorOnClientError, plans: mixedPlans, drainMs: 0 },
  { name: 'sse_once_in_order', title: 'SSE delivers each acknowledged sample once, in order', judge: sseDeliversOnceInOrder, plans: validPlans, drainMs: 300 },
  { name: 'auth_enforced', title: 'a missing or wrong API key is refused (401), never stored or broadcast', judge: authEnforced, plans: authPlans },
];
