import { Annotations, AspectPriority, Aspects, CfnResource, IAspect, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

export interface EncryptionAtRestChecksProps {
  /**
   * Also require a KMS key where the service always encrypts but with a key of its own when none is named:
   * CloudWatch Logs log groups, DMS replication instances, DynamoDB tables, SQS queues with SSE-SQS and S3 buckets
   * with SSE-S3. The payment stage sets this for its data stores; log groups of Lambda functions then need a key too.
   * @default false
   */
  readonly requireCustomerManagedKeys?: boolean;
}

type Properties = Record<string, unknown>;
/** A finding for one resource, or undefined when it is encrypted as required. */
type Rule = (p: Properties, cmk: boolean) => string | undefined;

const isTrue = (v: unknown) => v === true || v === 'true';
const present = (v: unknown) => v !== undefined && v !== null && v !== '';
const list = (v: unknown): Properties[] => (Array.isArray(v) ? (v as Properties[]) : []);
const obj = (v: unknown): Properties => (typeof v === 'object' && v !== null ? (v as Properties) : {});

function ebsMappings(mappings: unknown, where: string): string | undefined {
  const off = list(mappings).filter((m) => m.Ebs !== undefined && !isTrue(obj(m.Ebs).Encrypted));
  return off.length > 0
    ? `${where}: EBS volume(s) ${off.map((m) => String(m.DeviceName)).join(', ')} without Encrypted: true`
    : undefined;
}

/**
 * What "encryption at rest is off" means for each resource type, from the CloudFormation properties.
 * Types whose service always encrypts (CloudWatch Logs, DMS replication storage, DynamoDB, SQS with SSE-SQS since
 * 2022, S3 with SSE-S3 since January 2023) are findings only when a customer managed key is required.
 */
export const ENCRYPTION_RULES: Readonly<Record<string, Rule>> = {
  'AWS::S3::Bucket': (p, cmk) => {
    const rules = list(obj(p.BucketEncryption).ServerSideEncryptionConfiguration);
    const algorithms = rules.map((r) => obj(r.ServerSideEncryptionByDefault).SSEAlgorithm);
    if (algorithms.length === 0) return 'S3 bucket without BucketEncryption (state it; payment data needs SSE-KMS)';
    if (cmk && !algorithms.some((a) => typeof a === 'string' && a.startsWith('aws:kms')))
      return 'S3 bucket encrypted with SSE-S3 where a KMS key is required';
    return undefined;
  },
  'AWS::EC2::Volume': (p) => (isTrue(p.Encrypted) ? undefined : 'EBS volume without Encrypted: true'),
  'AWS::EC2::Instance': (p) => ebsMappings(p.BlockDeviceMappings, 'EC2 instance'),
  'AWS::EC2::LaunchTemplate': (p) => ebsMappings(obj(p.LaunchTemplateData).BlockDeviceMappings, 'Launch template'),
  'AWS::RDS::DBInstance': (p) =>
    // An Aurora instance inherits encryption from its cluster.
    present(p.DBClusterIdentifier) || isTrue(p.StorageEncrypted)
      ? undefined
      : 'RDS DB instance without StorageEncrypted: true',
  'AWS::RDS::DBCluster': (p) =>
    isTrue(p.StorageEncrypted) ? undefined : 'RDS DB cluster without StorageEncrypted: true',
  'AWS::SNS::Topic': (p) => (present(p.KmsMasterKeyId) ? undefined : 'SNS topic without KmsMasterKeyId'),
  'AWS::SQS::Queue': (p, cmk) => {
    if (present(p.KmsMasterKeyId)) return undefined;
    if (p.SqsManagedSseEnabled === false || p.SqsManagedSseEnabled === 'false')
      return 'SQS queue with SqsManagedSseEnabled: false and no KmsMasterKeyId';
    return cmk ? 'SQS queue without KmsMasterKeyId where a KMS key is required' : undefined;
  },
  'AWS::Logs::LogGroup': (p, cmk) =>
    cmk && !present(p.KmsKeyId) ? 'Log group without KmsKeyId where a KMS key is required' : undefined,
  'AWS::DMS::ReplicationInstance': (p, cmk) =>
    cmk && !present(p.KmsKeyId) ? 'DMS replication instance without KmsKeyId where a KMS key is required' : undefined,
  'AWS::EFS::FileSystem': (p) => (isTrue(p.Encrypted) ? undefined : 'EFS file system without Encrypted: true'),
  'AWS::DynamoDB::Table': (p, cmk) =>
    cmk && !(isTrue(obj(p.SSESpecification).SSEEnabled) && obj(p.SSESpecification).SSEType !== 'AES256')
      ? 'DynamoDB table without SSESpecification (KMS) where a KMS key is required'
      : undefined,
  'AWS::OpenSearchService::Domain': (p) =>
    isTrue(obj(p.EncryptionAtRestOptions).Enabled)
      ? undefined
      : 'OpenSearch domain without EncryptionAtRestOptions.Enabled: true',
  'AWS::Elasticsearch::Domain': (p) =>
    isTrue(obj(p.EncryptionAtRestOptions).Enabled)
      ? undefined
      : 'Elasticsearch domain without EncryptionAtRestOptions.Enabled: true',
  'AWS::Kinesis::Stream': (p) =>
    obj(p.StreamEncryption).EncryptionType === 'KMS' ? undefined : 'Kinesis stream without StreamEncryption (KMS)',
  'AWS::KinesisFirehose::DeliveryStream': (p) =>
    // A stream that reads from Kinesis keeps the source stream's encryption; Direct PUT needs its own.
    p.DeliveryStreamType === 'KinesisStreamAsSource' || present(p.DeliveryStreamEncryptionConfigurationInput)
      ? undefined
      : 'Firehose Direct PUT delivery stream without DeliveryStreamEncryptionConfigurationInput',
};

/**
 * Adds an error annotation to every resource that supports encryption at rest and has it off, so `cdk synth`
 * fails. It reads the resource's CloudFormation properties as they will be synthesized (overrides included);
 * a property that is a reference it cannot see through (a key ARN from a parameter) counts as present.
 * Not visible here: encryption that depends on an account default (EBS default encryption, an AMI's snapshot).
 */
export class EncryptionAtRestChecks implements IAspect {
  constructor(private readonly props: EncryptionAtRestChecksProps = {}) {}

  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    const rule = ENCRYPTION_RULES[node.cfnResourceType];
    if (!rule) return;
    const finding = rule(renderedProperties(node), this.props.requireCustomerManagedKeys ?? false);
    if (finding) {
      Annotations.of(node).addError(
        `Encryption at rest is off: ${finding}. Turn it on (or name a KMS key); the payment stage refuses unencrypted storage.`,
      );
    }
  }
}

/** Applies the checks to everything under `scope` (runs after the mutating aspects, so it sees their result). */
export function enforceEncryptionAtRest(scope: IConstruct, props: EncryptionAtRestChecksProps = {}): void {
  Aspects.of(scope).add(new EncryptionAtRestChecks(props), { priority: AspectPriority.READONLY });
}

function renderedProperties(resource: CfnResource): Properties {
  // The rendered resource is a token until resolved; resolve the whole fragment, then take its one resource.
  const rendered = (resource as unknown as { _toCloudFormation(): unknown })._toCloudFormation();
  const resolved = obj(obj(Stack.of(resource).resolve(rendered)).Resources);
  const [entry] = Object.values(resolved);
  const properties = obj(entry).Properties;
  return Token.isUnresolved(properties) ? {} : obj(properties);
}
