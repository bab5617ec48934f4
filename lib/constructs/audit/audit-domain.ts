import { CfnElement, CustomResource, Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IConstruct, IDependable } from 'constructs';
import { OpenSearchConfig } from '../../config/environment-config';
import { MigrationFunction } from '../migration-function';
import { SERVICE_LOG_PREFIXES, serviceLogGroupName } from '../shared-log-delivery-policy';

/** Every audit index starts with this; the ISM policy and the writer role cover `audit-*`. */
export const AUDIT_INDEX_PREFIX = 'audit-';
export const AUDIT_EVENTS_INDEX = `${AUDIT_INDEX_PREFIX}events`;
export const AUDIT_LOGS_INDEX = `${AUDIT_INDEX_PREFIX}logs`;

/** Construct id of the stack-wide Lambda behind every AwsCustomResource (fixed by aws-cdk-lib). */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

/** Oldest version whose features the setup relies on (`flat_object` in the events index template). */
const MIN_ENGINE: readonly [number, number] = [2, 7];

/**
 * Turns `OpenSearch_X.Y` from config into an engine version the installed aws-cdk-lib knows
 * (docs/adr/0002-opensearch-version.md). Throws a clear error otherwise.
 */
export function parseEngineVersion(configured: string): opensearch.EngineVersion {
  const m = /^OpenSearch_(\d+)\.(\d+)$/.exec(configured);
  if (!m)
    throw new Error(
      `openSearch.engineVersion: expected OpenSearch_X.Y (e.g. OpenSearch_2.19), got ${JSON.stringify(configured)}`,
    );
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < MIN_ENGINE[0] || (major === MIN_ENGINE[0] && minor < MIN_ENGINE[1])) {
    throw new Error(
      `openSearch.engineVersion: ${configured} is older than OpenSearch_${MIN_ENGINE.join('.')}, which the audit index templates need`,
    );
  }
  const known = Object.values(opensearch.EngineVersion)
    .filter((v): v is opensearch.EngineVersion => v instanceof opensearch.EngineVersion)
    .map((v) => v.version);
  if (!known.includes(configured)) {
    const openSearch = known.filter((v) => v.startsWith('OpenSearch_')).join(', ');
    throw new Error(
      `openSearch.engineVersion: ${configured} is unknown to the installed aws-cdk-lib; known: ${openSearch}`,
    );
  }
  return opensearch.EngineVersion.openSearch(`${major}.${minor}`);
}

/** Finding ids name resources by logical id, e.g. `Resource::<AuditDomain1234ABCD.Arn>/*`. */
export function findingRef(construct: IConstruct): string {
  const cfn = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(cfn.logicalId) as string;
}

export interface AuditDomainProps {
  /** VPC of the domain; it goes into one PRIVATE_ISOLATED subnet per AZ it spans (it needs no route out). */
  readonly vpc: ec2.IVpc;
  /**
   * Security group of the domain. {@link AuditDomain.allowHttpsFrom} adds ingress on 443 to it as rules
   * created beside the peer, so the stack owning this group never depends on this construct's stack.
   */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Encrypts the domain at rest. */
  readonly encryptionKey: kms.IKey;
  /** Engine version, node counts and types, volume size, index retention and the optional admin role. */
  readonly sizing: OpenSearchConfig;
  /** Retention of the domain's log groups and of the setup function's logs. */
  readonly logRetention: logs.RetentionDays;
  /** Removal of the domain and its log groups. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The OpenSearch service-linked role: a VPC domain cannot be created in an account that lacks it.
   * @default - none (the account already has the role)
   */
  readonly serviceLinkedRoleReady?: IDependable;
  /**
   * The account's CloudWatch Logs resource policy that lets OpenSearch write to log groups under
   * `SERVICE_LOG_PREFIXES.openSearch`, where the domain log groups are named.
   * @default - none (the policy already exists)
   */
  readonly logDeliveryPolicyReady?: IDependable;
}

/**
 * The audit OpenSearch domain and its setup.
 *
 * In: signed HTTPS on 443 from the security groups given to {@link allowHttpsFrom}, by the setup role,
 * the one writer role ({@link setWriter}) and the optional admin role; nobody else passes the access
 * policy. Out: the domain's slow-search, slow-index, application and audit logs to four log groups.
 * The setup custom resource (`lambda/opensearch-setup`) creates the index templates, the ISM policy that
 * deletes `audit-*` indices after `sizing.indexRetentionDays`, and maps the writer role to `audit_writer`
 * (no delete rights). Fine-grained access control's master user is the setup function's role: no
 * password exists anywhere.
 */
export class AuditDomain extends Construct {
  public readonly domain: opensearch.Domain;
  /** One isolated subnet per AZ the domain spans; put clients there (an ENI elsewhere adds cost, no availability). */
  public readonly subnets: readonly ec2.ISubnet[];
  /** Configures the domain; deliveries must start after it, as the writer role mapping is made here. */
  public readonly setup: CustomResource;
  /** The setup function; its role is the domain's master user. */
  public readonly setupFunction: MigrationFunction;

  private readonly securityGroup: ec2.ISecurityGroup;
  private writer?: iam.IRole;

  constructor(scope: Construct, id: string, props: AuditDomainProps) {
    super(scope, id);
    const { vpc, sizing, logRetention } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.securityGroup = props.securityGroup;

    // Placement: one isolated subnet per AZ the domain spans; zone awareness needs two or more.
    const isolated = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED, onePerAz: true }).subnets;
    const zoneAware = sizing.dataNodes >= 2;
    const azCount = zoneAware ? Math.min(3, isolated.length) : 1;
    if (isolated.length < 1 || (zoneAware && azCount < 2)) {
      throw new Error(
        `AuditDomain needs PRIVATE_ISOLATED subnets in ${zoneAware ? 'two or more AZs' : 'one AZ'}; the VPC has ${isolated.length}`,
      );
    }
    if (zoneAware && sizing.dataNodes % azCount !== 0) {
      throw new Error(
        `openSearch.dataNodes: ${sizing.dataNodes} data nodes cannot be spread evenly over ${azCount} AZs`,
      );
    }
    this.subnets = isolated.slice(0, azCount);

    const setupSg = new ec2.SecurityGroup(this, 'SetupSecurityGroup', {
      vpc,
      description: 'OpenSearch setup custom resource',
      allowAllOutbound: false,
    });
    this.allowHttpsFrom(setupSg, 'OpenSearch setup function');
    this.setupFunction = new MigrationFunction(this, 'SetupFunction', {
      handlerName: 'opensearch-setup',
      description: 'Configures index templates, ISM retention and the Firehose writer role on the audit domain',
      logRetention,
      logRemovalPolicy: removalPolicy,
      timeout: Duration.minutes(10),
      vpc,
      vpcSubnets: { subnets: [...this.subnets] },
      securityGroups: [setupSg],
    });
    const setupRole = this.setupFunction.role!;

    // Named under the shared log-delivery policy's prefix (one account-wide policy instead of one per
    // stage), unique per deployment so a retained group never blocks a new stack.
    const logGroup = (logId: string, suffix: string) =>
      new logs.LogGroup(this, logId, {
        logGroupName: serviceLogGroupName(this, SERVICE_LOG_PREFIXES.openSearch, suffix),
        retention: logRetention,
        removalPolicy,
      });
    const domain = new opensearch.Domain(this, 'Resource', {
      version: parseEngineVersion(sizing.engineVersion),
      vpc,
      vpcSubnets: [{ subnets: [...this.subnets] }],
      securityGroups: [props.securityGroup],
      capacity: {
        dataNodes: sizing.dataNodes,
        dataNodeInstanceType: sizing.dataNodeInstanceType,
        multiAzWithStandbyEnabled: false,
        ...(sizing.masterNodes > 0
          ? {
              masterNodes: sizing.masterNodes,
              masterNodeInstanceType: sizing.masterNodeInstanceType ?? 'm6g.large.search',
            }
          : {}),
      },
      ebs: { enabled: true, volumeSize: sizing.volumeSizeGb, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      zoneAwareness: zoneAware ? { enabled: true, availabilityZoneCount: azCount } : { enabled: false },
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
      nodeToNodeEncryption: true,
      encryptionAtRest: { enabled: true, kmsKey: props.encryptionKey },
      fineGrainedAccessControl: { masterUserArn: setupRole.roleArn },
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup: logGroup('SlowSearchLogs', 'slow-search'),
        slowIndexLogEnabled: true,
        slowIndexLogGroup: logGroup('SlowIndexLogs', 'slow-index'),
        appLogEnabled: true,
        appLogGroup: logGroup('AppLogs', 'application'),
        auditLogEnabled: true,
        auditLogGroup: logGroup('AuditLogs', 'audit'),
      },
      suppressLogsResourcePolicy: true,
      offPeakWindowEnabled: true,
      enableAutoSoftwareUpdate: true,
      removalPolicy,
    });
    for (const ready of [props.logDeliveryPolicyReady, props.serviceLinkedRoleReady]) {
      if (ready) domain.node.addDependency(ready);
    }
    this.domain = domain;

    // IAM decides who may talk to the domain at all; FGAC roles (made by the setup) decide what they may do.
    // The writer is known only once the delivery exists, hence the lazy ARN (checked by the validation below).
    const writerArn = Lazy.string({ produce: () => this.writer?.roleArn });
    this.node.addValidation({
      validate: () => (this.writer ? [] : ['AuditDomain has no writer: call setWriter() with the delivery role']),
    });
    domain.addAccessPolicies(
      new iam.PolicyStatement({
        sid: 'NamedRolesOnly',
        principals: [
          new iam.ArnPrincipal(setupRole.roleArn),
          new iam.ArnPrincipal(writerArn),
          ...(sizing.adminRoleArn ? [new iam.ArnPrincipal(sizing.adminRoleArn)] : []),
        ],
        actions: ['es:ESHttp*'],
        resources: [domain.domainArn, `${domain.domainArn}/*`],
      }),
    );
    setupRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ConfigureAuditDomain',
        actions: ['es:ESHttpGet', 'es:ESHttpPut', 'es:ESHttpPost', 'es:ESHttpPatch'],
        resources: [`${domain.domainArn}/*`],
      }),
    );

    const provider = new cr.Provider(this, 'SetupProvider', {
      onEventHandler: this.setupFunction,
      logGroup: new logs.LogGroup(this, 'SetupProviderLogs', { retention: logRetention, removalPolicy }),
    });
    this.setup = new CustomResource(this, 'Setup', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::OpenSearchAuditSetup',
      properties: {
        Endpoint: domain.domainEndpoint,
        IndexPattern: `${AUDIT_INDEX_PREFIX}*`,
        RetentionDays: sizing.indexRetentionDays,
        // A replica needs a second node; on one node it would leave every index yellow.
        Replicas: Math.min(1, sizing.dataNodes - 1),
        FirehoseRoleArn: writerArn,
        ...(sizing.adminRoleArn ? { AdminRoleArn: sizing.adminRoleArn } : {}),
      },
    });
    // The access policy is applied after the domain exists; the setup's signed calls need it.
    this.setup.node.addDependency(domain);

    this.acknowledgeFindings(sizing, setupRole, provider);
  }

  /**
   * Makes `role` the one role that indexes documents: named in the access policy, mapped to `audit_writer`
   * by the setup, and allowed to describe the domain and post, put and get under it.
   */
  public setWriter(role: iam.IRole): void {
    if (this.writer) throw new Error(`AuditDomain ${this.node.path} already has a writer (${this.writer.node.path})`);
    this.writer = role;
    const domainArn = this.domain.domainArn;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeDomain',
        actions: ['es:DescribeDomain', 'es:DescribeDomains', 'es:DescribeDomainConfig'],
        resources: [domainArn, `${domainArn}/*`],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'IndexDocuments',
        actions: ['es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpGet'],
        resources: [`${domainArn}/*`],
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${findingRef(this.domain)}.Arn>/*]`,
      reason:
        'The writer bulk-indexes into daily-rotated indices of this one domain; the index names are not known in advance.',
    });
  }

  /**
   * Lets `peer` reach the domain on 443: egress on `peer`, ingress on the domain's security group as a rule
   * created beside `peer` (remoteRule), so the domain group's stack never depends on the peer's.
   */
  public allowHttpsFrom(peer: ec2.ISecurityGroup, who: string): void {
    peer.addEgressRule(this.securityGroup, ec2.Port.tcp(443), 'HTTPS to the audit domain');
    this.securityGroup.addIngressRule(peer, ec2.Port.tcp(443), `${who} to the audit domain`, true);
  }

  private acknowledgeFindings(sizing: OpenSearchConfig, setupRole: iam.IRole, provider: cr.Provider): void {
    const cfnDomain = this.domain.node.defaultChild as IConstruct;
    if (sizing.masterNodes === 0) {
      Validations.of(cfnDomain).acknowledge({
        id: 'AwsSolutions-OS4',
        reason:
          'Sized per config (the seeds: 2 data nodes in prod, 1 in dev). The domain holds a copy of the audit trail (the events and log groups stay at their source) and dedicated masters are one config switch away (openSearch.masterNodes: 3).',
      });
    }
    Validations.of(cfnDomain).acknowledge({
      id: 'AwsSolutions-OS3',
      reason:
        'VPC domain: AWS does not apply IP-based access policies to VPC domains; the network boundary is the security group, and the access policy names IAM roles (es:ESHttp*), never an anonymous principal.',
    });
    if (sizing.dataNodes < 2) {
      Validations.of(cfnDomain).acknowledge({
        id: 'AwsSolutions-OS7',
        reason:
          'Single-node domain sized for cost in this environment (config.openSearch.dataNodes = 1); zone awareness needs two nodes.',
      });
    }
    Validations.of(setupRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'A Lambda function in a VPC manages its ENIs with EC2 actions that support no resource-level permissions (the set AWSLambdaVPCAccessExecutionRole grants).',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${findingRef(this.domain)}.Arn>/*]`,
        reason:
          'The setup configures the domain through its REST API; paths under this one domain are the resource (es:ESHttp* resources are domain/path).',
      },
    );

    // CDK applies the domain access policy through an AwsCustomResource (the policy names the
    // domain's own ARN, which CloudFormation cannot reference in the domain itself).
    const accessPolicyProvider = Stack.of(this)
      .node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON)
      ?.node.tryFindChild('ServiceRole');
    if (accessPolicyProvider) {
      const kmsReason =
        'CDK grants the access-policy updater kms:List*/Describe* on the domain key (only that key) so UpdateDomainConfig works on a CMK-encrypted domain.';
      Validations.of(accessPolicyProvider).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            "CDK's AwsCustomResource provider (applies the domain access policy); the managed policy only lets it write its own logs.",
        },
        { id: 'AwsSolutions-IAM5[Action::kms:List*]', reason: kmsReason },
        { id: 'AwsSolutions-IAM5[Action::kms:Describe*]', reason: kmsReason },
      );
    }
    const frameworkRole = provider.node.findChild('framework-onEvent').node.findChild('ServiceRole');
    Validations.of(frameworkRole).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'Custom resource provider framework function; the managed policy only lets it write its own logs.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${findingRef(this.setupFunction)}.Arn>:*]`,
        reason:
          'The provider framework may invoke any version of the setup function it fronts (and only that function).',
      },
    );
  }
}
