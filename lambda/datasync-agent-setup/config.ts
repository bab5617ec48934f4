import type { ProviderPhaseEnvironment } from '../shared/custom-resource';

/**
 * The variables DataSyncAgentSetup (lib/constructs/datasync-agent-setup.ts) sets, by name: only which Provider
 * function this deployment is. The agent, source and task settings come with each custom resource event, and
 * the Region (AWS_REGION) from Lambda.
 */
export type DataSyncAgentSetupEnvironment = ProviderPhaseEnvironment;
