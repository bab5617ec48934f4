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

export interface NetworkConfig {
  /** IPv4 CIDR of the VPC. */
  readonly cidr: string;
  /** Availability zones the VPC spans. @default 2 */
  readonly maxAzs: number;
  /** NAT gateways; 1 in dev to save cost, one per AZ where AZ failure must not cut egress. */
  readonly natGateways: number;
  /** Days to keep VPC flow logs in CloudWatch Logs. */
  readonly flowLogRetentionDays: number;
  /**
   * CIDR of the on-premises network reached over VPN or Direct Connect (file shares and the
   * source MySQL). The DMS and DataSync security groups open egress to it and nothing wider.
   */
  readonly onPremisesCidr: string;
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
}

export type DatabaseSizing =
  | {
      readonly kind: 'serverless';
      /** Aurora Serverless v2 minimum capacity in ACUs (0.5 is the smallest AWS allows for MySQL 3.x with a writer). */
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

export interface DmsConfig {
  /** Replication instance class. @default 'dms.t3.medium' */
  readonly instanceClass: string;
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
  /** Where alarms and remediation alerts are e-mailed; unset means topic only. */
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
