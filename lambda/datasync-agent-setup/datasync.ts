import { DataSyncClient } from '@aws-sdk/client-datasync';
import { errorName } from '../shared/custom-resource';

/**
 * One client per container; tests replace it with aws-sdk-client-mock. Bounded timeouts: a call
 * that hangs (no route to the endpoint) must end inside the function's timeout, because a function
 * timeout fails the stack, which activation must never do.
 */
export const datasync = new DataSyncClient({
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 5_000, requestTimeout: 20_000 },
});

/**
 * DataSync reports a missing agent, location or task as InvalidRequestException ("... does not
 * exist" / "not found"); there is no dedicated not-found error.
 */
export function isNotFound(error: unknown): boolean {
  if (errorName(error) !== 'InvalidRequestException') return false;
  const message = error instanceof Error ? error.message : '';
  return /not found|does not exist|doesn't exist|not exist/i.test(message);
}
