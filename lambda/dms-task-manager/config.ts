import type { ProviderPhaseEnvironment } from '../shared/custom-resource';

/**
 * The variables ManagedReplicationTask (lib/constructs/managed-replication-task.ts) sets, by name: only which
 * Provider function this deployment is. The task's settings come with each custom resource event.
 */
export type DmsTaskManagerEnvironment = ProviderPhaseEnvironment;
