import { GUARD_ACKNOWLEDGEMENTS, GuardAcknowledgement } from './cfn-guard';

const shared = (rule: string): GuardAcknowledgement => {
  const found = GUARD_ACKNOWLEDGEMENTS.find((a) => a.rule === rule);
  if (!found) throw new Error(`no shared Control Tower acknowledgement for ${rule}`);
  return found;
};

/** Non-prod payment resources that are disposable by design (payment.removal = destroy). */
const DISPOSABLE =
  'Only in non-prod payment environments, which the seeds want fully destroyable (payment.removal = destroy); prod turns it on.';

/**
 * AWS Control Tower proactive controls that do not fit the payment stage on specific resources, with
 * why. The rules are checked by cfn-guard per template; an acknowledgement is placed only on the
 * matching resources of the payment stage. Rules a prod payment template satisfies (deletion
 * protection, Multi-AZ) are acknowledged only on the resources of environments whose config turns
 * them off, see `paymentGuardAcknowledgements`.
 */
export const PAYMENT_GUARD_ACKNOWLEDGEMENTS: readonly GuardAcknowledgement[] = [
  shared('sqs_dlq_check'),
  shared('s3_bucket_default_encryption_kms_check'),
  shared('s3_bucket_logging_enabled_check'),
  shared('subnet_auto_assign_public_ip_disabled_check'),
  {
    rule: 'step_functions_state_machine_tracing_enabled_check',
    control: 'CT.STEPFUNCTIONS.PR.2',
    types: ['AWS::StepFunctions::StateMachine'],
    path: /\/Provider\/waiter-state-machine\/Resource$/,
    reason: 'aws-cdk-lib custom-resource waiter of the DMS task manager; it has no tracing switch.',
  },
  {
    rule: 'cloudwatch_log_group_retention_period_check',
    control: 'CT.CLOUDWATCH.PR.2',
    types: ['AWS::Logs::LogGroup'],
    reason:
      'The control wants at least a year; retention is payment.logRetentionDays per environment (14 days in dev, 365 in prod).',
  },
  {
    rule: 'cloudwatch_log_group_encrypted_check',
    control: 'CT.CLOUDWATCH.PR.3',
    types: ['AWS::Logs::LogGroup'],
    reason:
      'Database, service, flow and DMS task logs use the stage log key, given as a cross-stack reference the rule cannot read; the control-plane handlers’ logs (task ARNs and states) use CloudWatch Logs service keys.',
  },
  {
    rule: 'lambda_inside_vpc_check',
    control: 'CT.LAMBDA.PR.3',
    types: ['AWS::Lambda::Function'],
    reason:
      'Control-plane functions only (DMS task manager, custom-resource providers, bucket auto-delete, default security group lock-down): they call AWS APIs during deployments and never handle payment data.',
  },
  {
    rule: 's3_bucket_object_lock_enabled_check',
    control: 'CT.S3.PR.9',
    types: ['AWS::S3::Bucket'],
    reason:
      'Versioning with noncurrent-version expiry and cross-region replication is the retention model; object lock would stop non-prod teardown and the replication of delete markers.',
  },
  {
    rule: 's3_event_notifications_enabled_check',
    control: 'CT.S3.PR.4',
    types: ['AWS::S3::Bucket'],
    reason: 'Log and replica buckets have no event consumer; replication health is measured by S3 replication metrics.',
  },
  {
    rule: 'ecs_container_insights_enabled_check',
    control: 'CT.ECS.PR.1',
    types: ['AWS::ECS::Cluster'],
    reason:
      'Container Insights runs in its enhanced mode (containerInsights = enhanced), which the rule does not recognise.',
  },
  {
    rule: 'rds_instance_no_default_ports_check',
    control: 'CT.RDS.PR.21',
    types: ['AWS::RDS::DBInstance'],
    reason:
      'DMS, the rotation functions and PostgreSQL clients use 5432; the databases sit in isolated subnets behind security groups.',
  },
  {
    rule: 'rds_storage_encrypted_kms_key_check',
    control: 'CT.RDS.PR.17',
    types: ['AWS::RDS::DBInstance'],
    reason: 'Storage is encrypted with the stage data key, given as a cross-stack reference the rule cannot read.',
  },
];

/** The list above plus the acknowledgements an environment needs because its config turns a control off. */
export function paymentGuardAcknowledgements(config: {
  readonly removal: 'retain' | 'destroy';
  readonly database: { readonly multiAz: boolean };
  readonly service: { readonly certificateArn?: string };
}): GuardAcknowledgement[] {
  const extra: GuardAcknowledgement[] = [];
  if (config.removal === 'destroy') {
    extra.push(
      {
        rule: 'rds_instance_deletion_protection_enabled_check',
        control: 'CT.RDS.PR.8',
        types: ['AWS::RDS::DBInstance'],
        reason: DISPOSABLE,
      },
      {
        rule: 'elbv2_deletion_protection_enabled_check',
        control: 'CT.ELASTICLOADBALANCING.PR.5',
        types: ['AWS::ElasticLoadBalancingV2::LoadBalancer'],
        reason: DISPOSABLE,
      },
    );
  }
  if (!config.database.multiAz) {
    extra.push({
      rule: 'rds_instance_multi_az_support_check',
      control: 'CT.RDS.PR.1',
      types: ['AWS::RDS::DBInstance'],
      reason: 'Single-AZ outside prod to save cost; config validation requires Multi-AZ in prod.',
    });
  }
  if (!config.service.certificateArn) {
    extra.push({
      rule: 'alb_http_to_https_redirection_check',
      control: 'CT.ELASTICLOADBALANCING.PR.4',
      types: ['AWS::ElasticLoadBalancingV2::Listener'],
      reason: 'No certificate configured (payment.service.certificateArn); with one, HTTP only redirects to HTTPS.',
    });
  }
  return [...PAYMENT_GUARD_ACKNOWLEDGEMENTS, ...extra];
}
