import { Stage, Validations } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';

/**
 * AWS Control Tower proactive-control rules that do not fit this design, each with the reason.
 * Every other Control Tower rule runs on every synth; a new finding fails it.
 * (cfn-guard suppressions are per rule, not per resource; docs/compliance.md lists the resources.)
 */
export const DISABLED_GUARD_RULES: Readonly<Record<string, string>> = {
  // cloudwatch_log_group_encrypted_check
  'ct-cloudwatch-pr-3':
    'CloudWatch Logs encrypts every group at rest with service keys; the Glue job group, which can hold row samples, uses the data key.',
  // cloudwatch_log_group_retention_period_check
  'ct-cloudwatch-pr-2':
    'The rule wants at least one year; retention is set per environment (14 days in dev, 365 in prod) in EnvironmentConfig.',
  // lambda_inside_vpc_check
  'ct-lambda-pr-3':
    'The data-path handlers and aws-cdk-lib helper functions only call AWS APIs; the functions that reach VPC resources (DataSync activation, OpenSearch setup) do run in the VPC.',
  // sqs_dlq_check
  'ct-sqs-pr-1': 'The flagged queues are themselves dead-letter queues; their depth is alarmed.',
  // sqs_queue_encrypted_check
  'ct-sqs-pr-2':
    'Every queue is KMS-encrypted; the rule cannot read a key given as a cross-stack reference and reports it as missing.',
  // kms_create_grant_aws_service_check
  'ct-kms-pr-3':
    'RDS, Secrets Manager, DMS and Glue create grants on these keys for their own resources; key use is limited by IAM.',
  // s3_bucket_object_lock_enabled_check
  'ct-s3-pr-9':
    'Versioning with noncurrent-version expiry is the retention model; object lock would make the quarantine and backup flows unable to clean up.',
  // s3_event_notifications_enabled_check
  'ct-s3-pr-4':
    'EventBridge notifications are enabled by a custom resource the rule cannot see (TOOLING.md); log and backup buckets need none.',
  // s3_bucket_default_encryption_kms_check
  'ct-s3-pr-10': 'Server access log targets support SSE-S3 only, not SSE-KMS.',
  // s3_bucket_logging_enabled_check
  'ct-s3-pr-2': 'Flagged buckets are the access-log targets themselves.',
  // rds_instance_automatic_minor_version_upgrade_enabled_check
  'ct-rds-pr-5':
    'Aurora MySQL 3.10 is an LTS release; AWS recommends automatic minor upgrades off so the cluster stays on it (docs/adr/0003).',
  // rds_cluster_deletion_protection_enabled_check
  'ct-rds-pr-3': 'On in staging and prod; off only in the disposable dev environment.',
  // ec2_instance_nitro_encryption_in_transit_check
  'ct-ec2-pr-19':
    'The DataSync agent sizes AWS documents (m5) lack Nitro in-transit encryption; agent traffic is TLS to DataSync and NFS/SMB on-premises.',
  // ec2_instance_no_public_ip_check
  'ct-ec2-pr-8': 'The agent runs in a private subnet without public IP assignment.',
  // ec2_launch_template_monitoring_enabled_check
  'ct-ec2-pr-10': 'The launch template only enforces IMDSv2; detailed monitoring is on the instance.',
  // lambda_function_public_access_prohibited_check
  'ct-lambda-pr-2': 'The permissions let one SNS topic (by SourceArn) invoke the function; no public access.',
  // step_functions_state_machine_tracing_enabled_check
  'ct-stepfunctions-pr-2':
    'The flagged state machines are aws-cdk-lib custom-resource waiters, which expose no tracing switch; the data-path workflow has tracing on.',
  // subnet_auto_assign_public_ip_disabled_check
  'ct-ec2-pr-11': 'Public subnets exist only for the NAT gateways.',
  // opensearch_https_required_check
  'ct-opensearch-pr-16': 'HTTPS is enforced with the TLS 1.2 PFS policy (newer than the policies the rule knows).',
  // aurora_cluster_backtracking_enabled_check
  'ct-rds-pr-6': 'Recovery uses 7-day backups with point-in-time restore (see the AwsSolutions-RDS14 acknowledgement).',
  // opensearch_data_node_fault_tolerance_check
  'ct-opensearch-pr-14': 'Prod runs two zone-aware data nodes; dev runs one small node for cost, as the spec asks.',
};

/**
 * Adds the Control Tower rules to a stage, less the controls above (keyed by control file name, the
 * unit the validator can switch off; the rule name follows in a comment).
 */
export function addControlTowerGuard(stage: Stage): void {
  Validations.of(stage).addPlugins(new CfnGuardValidator({ disabledRules: Object.keys(DISABLED_GUARD_RULES) }));
}
