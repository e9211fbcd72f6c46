/** One execution of a plan and its judgement: what runProperty keeps and failure cases write out. */
import type { PropertyResult, Verdict } from '../../models/checker';
import type { History } from '../../models/history';
import type { Plan } from '../../models/plan';

export interface Attempt {
  /** The plan under the run id it was executed with (matches the history). */
  plan: Plan;
  history: History;
  verdict: Verdict;
  result: PropertyResult;
}
