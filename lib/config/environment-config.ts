import type { PaymentConfig } from './payment-config';

/**
 * Typed description of one deployment environment. One object per environment lives in
 * `environments.ts`; `loadEnvironmentConfig` merges the account from context or environment
 * variables and validates the result before any construct is created.
 */
export type EnvName = 'dev' | 'staging' | 'prod';

export const ENV_NAMES: readonly EnvName[] = ['dev', 'staging', 'prod'];

/** What happens to stateful resources (buckets, databases, keys, domains) when their stack is deleted. */
export type StatefulRemoval = 'retain' | 'destroy';

/** AWS services the VPC can reach through an interface endpoint (see NetworkStack). */
export const INTERFACE_ENDPOINT_SERVICES = ['SecretsManager', 'Logs', 'Kms', 'Sts'] as const;
export type InterfaceEndpointService = (typeof INTERFACE_ENDPOINT_SERVICES)[number];

export interface NetworkConfig {
  /** IPv4 CIDR of the VPC. */
  readonly cidr: string;
  /** Availability zones the VPC spans. @default 2 */
  readonly maxAzs: number;
  /** NAT gateways (or NAT instances); 1 in dev to save cost, one per AZ where AZ failure must not cut egress. */
  readonly natGateways: number;
  /**
   * What the `natGateways` NATs are. `gateway`: managed NAT gateways, each redundant within its AZ.
   * `instance`: one EC2 instance each in a public subnet (Amazon Linux 2023, IMDSv2, standard CPU
   * credits), about $30 a month less than a gateway and its address, but nothing repairs or replaces it
   * when it fails, so it is accepted in dev only (docs/cost.md).
   * @default { kind: 'gateway' }
   */
  readonly natProvider?: NatProviderConfig;
  /** Days to keep VPC flow logs in CloudWatch Logs. */
  readonly flowLogRetentionDays: number;
  /**
   * CIDR of the on-premises network reached over VPN or Direct Connect (file shares and the
   * source MySQL). The DMS and DataSync security groups open egress to it and nothing wider.
   */
  readonly onPremisesCidr: string;
  /**
   * How the VPC reaches `onPremisesCidr`. Required: DMS and DataSync cannot reach their sources
   * without it, and it is never assumed. See docs/operations.md, "On-premises connectivity".
   */
  readonly onPremisesConnectivity: OnPremisesConnectivity;
  /**
   * DNS of the on-premises network: queries for these domains are forwarded from the VPC to these
   * servers by a Route 53 Resolver outbound endpoint. Unset: the on-premises hosts in `dms.source`
   * and `dataSync.source` must be given as IP addresses. @default none
   */
  readonly onPremisesDns?: OnPremisesDns;
  /**
   * Interface endpoints to create. DMS and the rotation function have no route out of the VPC but
   * through the Secrets Manager endpoint, so it is always required; the others only keep calls off
   * the NAT gateway. Each endpoint is billed per AZ and hour (docs/cost.md).
   * @default every service of INTERFACE_ENDPOINT_SERVICES
   */
  readonly interfaceEndpoints?: readonly InterfaceEndpointService[];
  /**
   * AZs each interface endpoint has a network interface in. One AZ still serves the whole VPC
   * (cross-AZ), but an outage of that AZ cuts the endpoint.
   * @default every AZ of the VPC
   */
  readonly interfaceEndpointAzs?: number;
}

/** How the private subnets reach the internet (AWS APIs without an endpoint, the DataSync service). */
export type NatProviderConfig =
  | { readonly kind: 'gateway' }
  | {
      readonly kind: 'instance';
      /** EC2 instance type of each NAT instance, e.g. `t4g.nano` (Graviton types get the arm64 image). */
      readonly instanceType: string;
    };

/**
 * One of three ways to the on-premises network; NetworkStack routes `onPremisesCidr` through it
 * from every private subnet (where DMS, the DataSync agent, the VPC functions and the resolver run).
 */
export type OnPremisesConnectivity = SiteToSiteVpn | ExistingTransitGateway | AlreadyProvidedConnectivity;

/** An AWS Site-to-Site VPN from a virtual private gateway created here to the on-premises device. */
export interface SiteToSiteVpn {
  readonly kind: 'site-to-site-vpn';
  /** Public IPv4 address of the on-premises VPN device (the customer gateway). */
  readonly customerGatewayIp: string;
  /** BGP (dynamic, recommended: tunnel failover without route changes) or static routing. */
  readonly routing: { readonly type: 'bgp'; readonly customerGatewayAsn: number } | { readonly type: 'static' };
  /** ASN of the AWS side of the BGP session. @default 64512 */
  readonly amazonSideAsn?: number;
}

/** A Transit Gateway that already reaches on-premises (VPN or Direct Connect attached to it). */
export interface ExistingTransitGateway {
  readonly kind: 'transit-gateway';
  /** `tgw-…`; shared with this account through AWS RAM when it lives in a network account. */
  readonly transitGatewayId: string;
}

/**
 * The network team connects the VPC themselves; this stack only adds the routes to the target named
 * here, which must exist and be usable from this VPC when NetworkStack deploys.
 */
export interface AlreadyProvidedConnectivity {
  readonly kind: 'already-provided';
  readonly routeTarget: OnPremisesRouteTarget;
}

export type OnPremisesRouteTarget =
  | { readonly type: 'transit-gateway'; /** `tgw-…` with an attachment to this VPC. */ readonly id: string }
  | { readonly type: 'vpn-gateway'; /** `vgw-…` attached to this VPC. */ readonly id: string }
  | { readonly type: 'vpc-peering-connection'; /** `pcx-…`, active. */ readonly id: string }
  | { readonly type: 'network-interface'; /** `eni-…` of an appliance that forwards. */ readonly id: string };

export interface OnPremisesDns {
  /** Domains resolved on-premises, e.g. `corp.example.com` (sub-domains included). */
  readonly domains: readonly string[];
  /** IPv4 addresses of the on-premises DNS servers (1 to 6), inside `onPremisesCidr`. */
  readonly serverIps: readonly string[];
}

export interface StorageConfig {
  /** Days after which a noncurrent object version is expired. */
  readonly noncurrentVersionExpirationDays: number;
  /** Days after which an incomplete multipart upload is aborted. */
  readonly abortIncompleteUploadDays: number;
  /** Days to keep server access logs. */
  readonly accessLogExpirationDays: number;
}

export type NfsOrSmb =
  | {
      readonly protocol: 'NFS';
      /** Hostname or IP of the on-premises NFS server, as the agent sees it. */
      readonly serverHostname: string;
      /** Exported path, e.g. `/exports/migration`. */
      readonly subdirectory: string;
    }
  | {
      readonly protocol: 'SMB';
      readonly serverHostname: string;
      /** Share path, e.g. `/share/migration`. */
      readonly subdirectory: string;
      readonly user: string;
      readonly domain?: string;
      /** ARN of a Secrets Manager secret whose `password` key holds the SMB password. */
      readonly passwordSecretArn: string;
    };

export interface DataSyncConfig {
  /**
   * EC2 instance type of the agent. AWS documents m5.2xlarge as the smallest supported size
   * (up to 20 million files per task) and m5.4xlarge above that.
   */
  readonly agentInstanceType: string;
  /** The on-premises share DataSync reads. */
  readonly source: NfsOrSmb;
  /** Cron expression (`cron(0 2 * * ? *)`) for the task; unset means run on demand. */
  readonly scheduleExpression?: string;
  /**
   * Agent ARN of an agent activated by hand. When set, the activation custom resource is skipped
   * and this ARN is used for the source location and task.
   */
  readonly existingAgentArn?: string;
  /**
   * Run the agent instance only around scheduled transfers: EventBridge Scheduler starts it at
   * `startExpression` (before `scheduleExpression`, leaving time to boot) and stops it at
   * `stopExpression` (after the transfer window). A stopped agent keeps its activation; on-demand
   * runs need the instance started by hand first. Both are `cron(...)` in UTC.
   * @default the agent runs all the time
   */
  readonly agentPowerSchedule?: {
    readonly startExpression: string;
    readonly stopExpression: string;
  };
  /**
   * Raise it by one to run a failed agent activation again on the next deploy (the stack's
   * `SetupInstructions` output says when). Committed here, not passed on the command line, so the
   * pipeline and a laptop synthesize the same DataSync stack.
   * @default 0
   */
  readonly activationAttempt?: number;
}

export type DatabaseSizing =
  | {
      readonly kind: 'serverless';
      /**
       * Aurora Serverless v2 minimum capacity in ACUs. 0 lets the instances pause when no user
       * connection has been open for 5 minutes (Aurora MySQL 3.08 and later; docs/cost.md).
       */
      readonly minCapacity: number;
      readonly maxCapacity: number;
    }
  | {
      readonly kind: 'provisioned';
      /** Instance class without the `db.` prefix, e.g. `r6g.large`. */
      readonly instanceType: string;
    };

export interface DatabaseConfig {
  readonly sizing: DatabaseSizing;
  /** Number of reader instances besides the writer. */
  readonly readers: number;
  readonly backupRetentionDays: number;
  readonly deletionProtection: boolean;
  /** Days between automatic rotations of the master credentials. */
  readonly rotationDays: number;
  /** Name of the database created in the cluster. */
  readonly defaultDatabaseName: string;
}

/** One schema the DMS task migrates; tables default to all tables of the schema. */
export interface MigratedSchema {
  readonly name: string;
  /** Table names or DMS wildcards (`orders_%`). @default ['%'] (every table of this schema only) */
  readonly tables?: readonly string[];
}

/**
 * What a full load does to a target table that exists. `DROP_AND_CREATE` makes DMS create bare
 * tables (primary key only: no secondary indexes, foreign keys or defaults) and drops the schema
 * prepared on every reload; use it only for throw-away targets.
 */
export type TargetTablePrepMode = 'DO_NOTHING' | 'TRUNCATE_BEFORE_LOAD' | 'DROP_AND_CREATE';

export interface DmsConfig {
  /** Replication instance class. @default 'dms.t3.medium' */
  readonly instanceClass: string;
  /**
   * Full-load table preparation. The target schema is created with native tools first
   * (docs/operations.md, "Target schema"). @default 'DO_NOTHING'
   */
  readonly targetTablePrepMode?: TargetTablePrepMode;
  readonly allocatedStorageGb: number;
  readonly multiAz: boolean;
  /** DMS engine version of the replication instance; unset lets DMS choose its default. */
  readonly engineVersion?: string;
  readonly source: {
    /** Hostname of the on-premises MySQL server reachable from the VPC. */
    readonly serverName: string;
    readonly port: number;
    /**
     * ARN of an existing Secrets Manager secret with `username`, `password`, `host`, `port` for
     * the source database. Unset creates an empty secret that an operator fills in before the
     * first task run (the README says how).
     */
    readonly secretArn?: string;
  };
  /** Allowlist of schemas (and tables) to migrate. System schemas are rejected by validation. */
  readonly schemas: readonly MigratedSchema[];
  /** CDC latency (seconds) under which the workflow treats replication as caught up. */
  readonly cdcLatencyThresholdSeconds: number;
  /** May remediation fall back to `reload-target` when a resume is impossible? */
  readonly allowReloadTarget: boolean;
}

export interface GlueConfig {
  /** Retries Glue itself makes for a failed run. */
  readonly maxRetries: number;
  /** Worker type, e.g. `G.1X`. */
  readonly workerType: string;
  readonly numberOfWorkers: number;
  /** Max concurrent runs of the validation job. */
  readonly maxConcurrentRuns: number;
  /**
   * How the Glue trigger gathers objects into job runs, and what the queue is sized for
   * (docs/bursts.md). Every field has a default. @default DEFAULT_VALIDATION_BATCH
   */
  readonly batch?: ValidationBatchConfig;
}

/** One Step Functions execution per dataset of each validated batch, or one per object. */
export type ExecutionScope = 'per-dataset-batch' | 'per-object';

export interface ValidationBatchConfig {
  /** Most objects one job run validates; also the SQS batch size of the trigger. @default 100 */
  readonly maxObjects?: number;
  /** Most bytes (sum of object sizes) one job run validates; a larger object runs alone. @default 10 GiB */
  readonly maxBytes?: number;
  /** Seconds the event source waits to fill a batch (SQS MaximumBatchingWindowInSeconds, 0-300). @default 30 */
  readonly maxBatchingWindowSeconds?: number;
  /** Concurrent trigger invocations (event source maximum concurrency, 2-1000). @default 2 */
  readonly maxTriggerConcurrency?: number;
  /** The longest a batch run should take, in minutes: the unit of the drain-time arithmetic. @default 10 */
  readonly runMinutes?: number;
  /** The largest burst (objects) the queue must absorb without parking anything. @default 10000 */
  readonly designBurstObjects?: number;
  /** Replication-check executions per dataset batch, or per object as before. @default 'per-dataset-batch' */
  readonly executions?: ExecutionScope;
}

export interface OpenSearchConfig {
  /**
   * Engine version as `OpenSearch_X.Y`; must be one aws-cdk-lib knows. See docs/adr/0002.
   * @default 'OpenSearch_2.19'
   */
  readonly engineVersion: string;
  readonly dataNodes: number;
  readonly dataNodeInstanceType: string;
  /** Dedicated master nodes; 0 for none. */
  readonly masterNodes: number;
  readonly masterNodeInstanceType?: string;
  readonly volumeSizeGb: number;
  /** Days an audit index lives before the ISM policy deletes it. */
  readonly indexRetentionDays: number;
  /**
   * IAM role given admin access to the audit domain (Dashboards, REST API), committed here so the
   * pipeline and a laptop synthesize the same domain. @default none
   */
  readonly adminRoleArn?: string;
}

export interface RemediationConfig {
  /** How many times remediation re-runs a failed Glue job or redrives an execution. */
  readonly maxAttempts: number;
}

export interface EnvironmentConfig {
  readonly envName: EnvName;
  /**
   * 12-digit AWS account. Unset lets `cdk synth` run offline (environment-agnostic templates);
   * `assertDeployable` refuses a deploy without it.
   */
  readonly account?: string;
  /** Region of the MigrationStage. @default 'us-west-2' */
  readonly region: string;
  readonly removal: StatefulRemoval;
  /** Days to keep every Lambda, Glue, Step Functions and DMS log group. */
  readonly logRetentionDays: number;
  /**
   * Where alarms and remediation alerts are e-mailed; unset means topic only. Committed in
   * `environments.ts` (not taken from the shell), so the pipeline's synth equals a laptop's.
   */
  readonly alarmEmail?: string;
  readonly network: NetworkConfig;
  readonly storage: StorageConfig;
  readonly dataSync: DataSyncConfig;
  readonly database: DatabaseConfig;
  readonly dms: DmsConfig;
  readonly glue: GlueConfig;
  readonly openSearch: OpenSearchConfig;
  readonly remediation: RemediationConfig;
  /** Tags put on every resource of the stage. */
  readonly tags: Readonly<Record<string, string>>;
  /** The payment-service cutover (PaymentCutoverStage) of this environment; see payment-config.ts. */
  readonly payment: PaymentConfig;
}
