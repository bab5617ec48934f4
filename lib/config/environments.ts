import { EnvName, EnvironmentConfig } from './environment-config';
import { PaymentConfig } from './payment-config';

/**
 * The payment cutover of each environment (PaymentCutoverStage, us-east-1 with the log replica in
 * us-west-2). Non-prod payment environments are fully destroyable, as the seeds ask; prod retains
 * and snapshots. `dns` names a zone you own: replace the example values before deploying.
 */
const PAYMENT_SCHEMAS: PaymentConfig['dms']['schemas'] = [
  { name: 'payments' },
  { name: 'ledger', tables: ['accounts', 'entries', 'transfers'] },
];
const PAYMENT_SERVICE = {
  ecrRepositoryName: 'payment-service',
  imageTag: 'v1.0.0',
  healthCheckPath: '/health',
  containerPort: 8080,
  targetUtilizationPercent: 60,
} as const;
const PAYMENT: Readonly<Record<EnvName, PaymentConfig>> = {
  dev: {
    region: 'us-east-1',
    replicaRegion: 'us-west-2',
    network: { cidr: '10.110.0.0/16', natGateways: 1 },
    database: {
      instanceClass: 'db.t4g.medium',
      allocatedStorageGb: 20,
      maxAllocatedStorageGb: 50,
      multiAz: false,
      backupRetentionDays: 7,
      rotationDays: 30,
      databaseName: 'payments',
    },
    service: { ...PAYMENT_SERVICE, cpu: 256, memoryMiB: 512, desiredCount: 1, minCount: 1, maxCount: 2 },
    dms: {
      instanceClass: 'dms.t3.medium',
      allocatedStorageGb: 50,
      multiAz: false,
      schemas: PAYMENT_SCHEMAS,
      replicationSlots: 10,
    },
    logs: { transitionToGlacierDays: 30, noncurrentVersionExpirationDays: 7, accessLogExpirationDays: 30 },
    dns: {
      hostedZoneId: 'Z0DEVPAYMENTS0EXAMPLE',
      hostedZoneName: 'dev.payments.example.com',
      recordName: 'api.dev.payments.example.com',
    },
    removal: 'destroy',
    costCenter: 'payment-processing-dev',
    migrationPhase: 'replication',
    logRetentionDays: 14,
  },
  staging: {
    region: 'us-east-1',
    replicaRegion: 'us-west-2',
    network: { cidr: '10.120.0.0/16', natGateways: 2 },
    database: {
      instanceClass: 'db.r6g.large',
      allocatedStorageGb: 100,
      maxAllocatedStorageGb: 200,
      multiAz: false,
      backupRetentionDays: 7,
      rotationDays: 30,
      databaseName: 'payments',
    },
    service: { ...PAYMENT_SERVICE, cpu: 512, memoryMiB: 1024, desiredCount: 2, minCount: 2, maxCount: 4 },
    dms: {
      instanceClass: 'dms.t3.medium',
      allocatedStorageGb: 100,
      multiAz: false,
      schemas: PAYMENT_SCHEMAS,
      replicationSlots: 10,
    },
    logs: { transitionToGlacierDays: 90, noncurrentVersionExpirationDays: 30, accessLogExpirationDays: 90 },
    dns: {
      hostedZoneId: 'Z0STGPAYMENTS0EXAMPLE',
      hostedZoneName: 'staging.payments.example.com',
      recordName: 'api.staging.payments.example.com',
    },
    removal: 'destroy',
    costCenter: 'payment-processing-staging',
    migrationPhase: 'replication',
    logRetentionDays: 30,
  },
  prod: {
    region: 'us-east-1',
    replicaRegion: 'us-west-2',
    network: { cidr: '10.130.0.0/16', natGateways: 2 },
    database: {
      instanceClass: 'db.r6g.large',
      allocatedStorageGb: 100,
      maxAllocatedStorageGb: 500,
      multiAz: true,
      backupRetentionDays: 14,
      rotationDays: 30,
      databaseName: 'payments',
    },
    service: { ...PAYMENT_SERVICE, cpu: 1024, memoryMiB: 2048, desiredCount: 3, minCount: 3, maxCount: 12 },
    dms: {
      instanceClass: 'dms.r5.large',
      allocatedStorageGb: 200,
      multiAz: true,
      schemas: PAYMENT_SCHEMAS,
      replicationSlots: 10,
    },
    logs: { transitionToGlacierDays: 90, noncurrentVersionExpirationDays: 365, accessLogExpirationDays: 365 },
    dns: {
      hostedZoneId: 'Z0PRDPAYMENTS0EXAMPLE',
      hostedZoneName: 'payments.example.com',
      recordName: 'api.payments.example.com',
    },
    removal: 'retain',
    costCenter: 'payment-processing',
    migrationPhase: 'replication',
    logRetentionDays: 365,
  },
};

/**
 * The three environments. The on-premises connectivity, DNS and host names below are examples
 * that synthesize offline; replace them before the first deploy (docs/operations.md). Accounts are deliberately absent: they come from context
 * (`-c devAccount=111111111111`) or the environment (`DEV_ACCOUNT`), see `load.ts`.
 * Edit sizing, retention and the migrated schemas here; the values are validated at start-up.
 */
export const ENVIRONMENTS: Readonly<Record<EnvName, Omit<EnvironmentConfig, 'account'>>> = {
  dev: {
    envName: 'dev',
    region: 'us-west-2',
    removal: 'destroy',
    logRetentionDays: 14,
    network: {
      cidr: '10.10.0.0/16',
      maxAzs: 2,
      natGateways: 1,
      // A t4g.nano NAT instance ($7.36 a month with its root volume and address) for a NAT gateway and its
      // address ($36.50): dev's egress is API calls and the weekly sample transfer, and an outage of the
      // instance only pauses dev. Standard credits: 0.5 GiB and 5 % of a vCPU are enough to forward it.
      natProvider: { kind: 'instance', instanceType: 't4g.nano' },
      flowLogRetentionDays: 14,
      onPremisesCidr: '192.168.0.0/16',
      // EXAMPLE VALUES: replace with your VPN device and DNS servers (docs/operations.md).
      // 203.0.113.0/24 is a documentation range: a deploy with it is refused.
      onPremisesConnectivity: {
        kind: 'site-to-site-vpn',
        customerGatewayIp: '203.0.113.10',
        routing: { type: 'bgp', customerGatewayAsn: 65010 },
      },
      // No onPremisesDns: dev names its two on-premises sources by address (dms.source, dataSync.source),
      // so it needs no Route 53 Resolver outbound endpoint (two ENIs, $182.50 a month, docs/cost.md).
      // Only the endpoint DMS and rotation need (everything else reaches AWS through NAT), in one AZ.
      interfaceEndpoints: ['SecretsManager'],
      interfaceEndpointAzs: 1,
    },
    storage: { noncurrentVersionExpirationDays: 7, abortIncompleteUploadDays: 1, accessLogExpirationDays: 30 },
    dataSync: {
      agentInstanceType: 'm5.2xlarge',
      // EXAMPLE ADDRESS of the NFS server, inside onPremisesCidr (dev resolves no on-premises names).
      source: { protocol: 'NFS', serverHostname: '192.168.0.20', subdirectory: '/exports/migration' },
      // A weekly transfer; the agent runs from 30 minutes before it until 3 hours after it starts.
      scheduleExpression: 'cron(0 2 ? * MON *)',
      agentPowerSchedule: { startExpression: 'cron(30 1 ? * MON *)', stopExpression: 'cron(0 5 ? * MON *)' },
    },
    database: {
      // Pauses after 5 idle minutes; the first connection after that waits for the resume.
      sizing: { kind: 'serverless', minCapacity: 0, maxCapacity: 2 },
      readers: 1,
      backupRetentionDays: 7,
      deletionProtection: false,
      rotationDays: 30,
      defaultDatabaseName: 'migration',
    },
    dms: {
      // 2 GiB: enough for the two allowlisted schemas with validation; staging and prod keep t3.medium.
      instanceClass: 'dms.t3.small',
      // The target schema is created with native tools before the first load (docs/operations.md).
      targetTablePrepMode: 'DO_NOTHING',
      allocatedStorageGb: 50,
      multiAz: false,
      // EXAMPLE ADDRESS of the source MySQL, inside onPremisesCidr (dev resolves no on-premises names).
      source: { serverName: '192.168.0.30', port: 3306 },
      schemas: [{ name: 'inventory' }, { name: 'catalog', tables: ['products', 'product_files'] }],
      cdcLatencyThresholdSeconds: 60,
      allowReloadTarget: true,
    },
    glue: { maxRetries: 1, workerType: 'G.1X', numberOfWorkers: 2, maxConcurrentRuns: 10 },
    openSearch: {
      engineVersion: 'OpenSearch_2.19',
      dataNodes: 1,
      dataNodeInstanceType: 't3.small.search',
      masterNodes: 0,
      volumeSizeGb: 20,
      indexRetentionDays: 14,
    },
    remediation: { maxAttempts: 3 },
    tags: { Project: 'migration-platform', Environment: 'dev', CostCenter: 'platform-dev' },
    payment: PAYMENT.dev,
  },
  staging: {
    envName: 'staging',
    region: 'us-west-2',
    removal: 'retain',
    logRetentionDays: 30,
    network: {
      cidr: '10.20.0.0/16',
      maxAzs: 2,
      natGateways: 2,
      flowLogRetentionDays: 30,
      onPremisesCidr: '192.168.0.0/16',
      // EXAMPLE VALUES: replace with your VPN device and DNS servers (docs/operations.md).
      // 203.0.113.0/24 is a documentation range: a deploy with it is refused.
      onPremisesConnectivity: {
        kind: 'site-to-site-vpn',
        customerGatewayIp: '203.0.113.20',
        routing: { type: 'bgp', customerGatewayAsn: 65010 },
      },
      onPremisesDns: { domains: ['onprem.example.internal'], serverIps: ['192.168.0.10', '192.168.0.11'] },
    },
    storage: { noncurrentVersionExpirationDays: 30, abortIncompleteUploadDays: 3, accessLogExpirationDays: 90 },
    dataSync: {
      agentInstanceType: 'm5.2xlarge',
      source: { protocol: 'NFS', serverHostname: 'nfs.onprem.example.internal', subdirectory: '/exports/migration' },
    },
    database: {
      sizing: { kind: 'provisioned', instanceType: 'r6g.large' },
      readers: 1,
      backupRetentionDays: 7,
      deletionProtection: true,
      rotationDays: 30,
      defaultDatabaseName: 'migration',
    },
    dms: {
      instanceClass: 'dms.t3.medium',
      // The target schema is created with native tools before the first load (docs/operations.md).
      targetTablePrepMode: 'DO_NOTHING',
      allocatedStorageGb: 100,
      multiAz: false,
      source: { serverName: 'mysql.onprem.example.internal', port: 3306 },
      schemas: [{ name: 'inventory' }, { name: 'catalog', tables: ['products', 'product_files'] }],
      cdcLatencyThresholdSeconds: 60,
      allowReloadTarget: false,
    },
    glue: { maxRetries: 2, workerType: 'G.1X', numberOfWorkers: 2, maxConcurrentRuns: 10 },
    openSearch: {
      engineVersion: 'OpenSearch_2.19',
      dataNodes: 2,
      dataNodeInstanceType: 'r6g.large.search',
      masterNodes: 0,
      volumeSizeGb: 50,
      indexRetentionDays: 30,
    },
    remediation: { maxAttempts: 3 },
    tags: { Project: 'migration-platform', Environment: 'staging', CostCenter: 'platform-staging' },
    payment: PAYMENT.staging,
  },
  prod: {
    envName: 'prod',
    region: 'us-west-2',
    removal: 'retain',
    logRetentionDays: 365,
    network: {
      cidr: '10.30.0.0/16',
      maxAzs: 2,
      natGateways: 2,
      flowLogRetentionDays: 365,
      onPremisesCidr: '192.168.0.0/16',
      // EXAMPLE VALUES: replace with your VPN device and DNS servers (docs/operations.md).
      // 203.0.113.0/24 is a documentation range: a deploy with it is refused.
      onPremisesConnectivity: {
        kind: 'site-to-site-vpn',
        customerGatewayIp: '203.0.113.30',
        routing: { type: 'bgp', customerGatewayAsn: 65010 },
      },
      onPremisesDns: { domains: ['onprem.example.internal'], serverIps: ['192.168.0.10', '192.168.0.11'] },
    },
    storage: { noncurrentVersionExpirationDays: 90, abortIncompleteUploadDays: 7, accessLogExpirationDays: 365 },
    dataSync: {
      agentInstanceType: 'm5.4xlarge',
      source: { protocol: 'NFS', serverHostname: 'nfs.onprem.example.internal', subdirectory: '/exports/migration' },
      scheduleExpression: 'cron(0 2 * * ? *)',
    },
    database: {
      sizing: { kind: 'provisioned', instanceType: 'r6g.large' },
      readers: 1,
      backupRetentionDays: 7,
      deletionProtection: true,
      rotationDays: 30,
      defaultDatabaseName: 'migration',
    },
    dms: {
      // Non-burstable: a T3 runs out of CPU credits under a long full load and CDC stalls.
      instanceClass: 'dms.r6i.large',
      // The target schema is created with native tools before the first load (docs/operations.md).
      targetTablePrepMode: 'DO_NOTHING',
      allocatedStorageGb: 100,
      multiAz: true,
      source: { serverName: 'mysql.onprem.example.internal', port: 3306 },
      schemas: [{ name: 'inventory' }, { name: 'catalog', tables: ['products', 'product_files'] }],
      cdcLatencyThresholdSeconds: 60,
      allowReloadTarget: false,
    },
    glue: { maxRetries: 2, workerType: 'G.1X', numberOfWorkers: 5, maxConcurrentRuns: 20 },
    openSearch: {
      engineVersion: 'OpenSearch_2.19',
      dataNodes: 2,
      dataNodeInstanceType: 'r6g.large.search',
      // Dedicated masters keep the cluster manager off the data nodes (quorum across AZs).
      masterNodes: 3,
      masterNodeInstanceType: 'm6g.large.search',
      volumeSizeGb: 100,
      indexRetentionDays: 90,
    },
    remediation: { maxAttempts: 3 },
    tags: { Project: 'migration-platform', Environment: 'prod', CostCenter: 'platform-prod' },
    payment: PAYMENT.prod,
  },
};
