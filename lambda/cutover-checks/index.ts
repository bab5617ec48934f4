import { logger } from '../shared/powertools';
import {
  deploymentsSettled,
  drained,
  evaluate,
  validationPass,
  type DrainInput,
  type EvaluateInput,
  type ServicesAnswer,
  type TableStatistics,
} from './evaluate';
import { loadPlanDefaults } from './config';
import { validatePlan } from './plan';
import { reconcile, type ReconcileInput } from './reconcile';
import { planWeights, type ResourceRecordSet, type Routing } from './weights';

/**
 * The cutover workflow's decisions. The workflow reads AWS through Step Functions SDK integrations
 * and hands the answers here; this function calls no AWS API, so its role holds nothing but logs.
 */
export type ChecksEvent =
  | { op: 'validate-plan'; plan: unknown }
  | ({ op: 'evaluate' } & EvaluateInput)
  | { op: 'weights'; records: { ResourceRecordSets?: ResourceRecordSet[] }; routing: Routing; targetWeight: number }
  | ({ op: 'drain' } & DrainInput)
  | { op: 'validation-pass'; tables: { TableStatistics?: TableStatistics[] } }
  | { op: 'deployments'; answers: ServicesAnswer[] }
  | ({ op: 'reconcile' } & ReconcileInput);

export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Cutover.BadRequest';
  }
}

export function decide(event: ChecksEvent, env: NodeJS.ProcessEnv = process.env): unknown {
  switch (event.op) {
    case 'validate-plan':
      // Pre-checks read metrics from this far back: the latest datapoints, not only those after the start.
      return {
        ...validatePlan(event.plan, loadPlanDefaults(env)),
        readFrom: new Date(Date.now() - 10 * 60_000).toISOString(),
      };
    case 'evaluate':
      return evaluate(event);
    case 'weights':
      return planWeights(event.records.ResourceRecordSets ?? [], event.routing, event.targetWeight);
    case 'drain':
      return drained(event);
    case 'validation-pass':
      return validationPass(event.tables);
    case 'deployments':
      return deploymentsSettled(event.answers);
    case 'reconcile':
      return reconcile(event);
    default:
      throw new BadRequestError(`unknown op ${JSON.stringify((event as { op?: unknown }).op)}`);
  }
}

export async function handler(event: unknown): Promise<unknown> {
  if (typeof event !== 'object' || event === null || typeof (event as { op?: unknown }).op !== 'string') {
    throw new BadRequestError('the event must be an object with an op');
  }
  const e = event as ChecksEvent;
  logger.appendKeys({ op: e.op });
  try {
    const result = decide(e);
    logger.info('decided', { result: result as Record<string, unknown> });
    return result;
  } catch (error) {
    logger.warn('refused', { error: error as Error });
    throw error;
  }
}
