import { ArnFormat, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';
import { acknowledgeAwsCustomResourceProvider } from './dms-account-roles';
import { deploymentSuffix } from './physical-names';

/**
 * CloudWatch Logs allows 10 resource policies per account and region. Every stage (dev and any
 * number of sandboxes in one account) writes this one policy, under this one name, with the same
 * document: `PutResourcePolicy` replaces a policy of the same name, so the account holds one.
 */
export const LOG_DELIVERY_POLICY_NAME = 'migration-platform-service-log-delivery';

/** Log groups the services write to; their names start with these prefixes. */
export const SERVICE_LOG_PREFIXES = {
  openSearch: '/aws/vendedlogs/migration-platform/opensearch/',
  dataSync: '/aws/vendedlogs/migration-platform/datasync/',
} as const;

/**
 * A log group name under `prefix` that is unique per deployment of `scope`'s stack (stack name plus
 * the stack id's UUID), so a retained group of an earlier deployment never blocks a new one.
 */
export function serviceLogGroupName(scope: Construct, prefix: string, suffix: string): string {
  return Fn.join('', [prefix, Stack.of(scope).stackName, '/', deploymentSuffix(scope), '/', suffix]);
}

/** The policy document every stage writes (account and region specific, stage independent). */
export function logDeliveryPolicyDocument(stack: Stack): iam.PolicyDocument {
  const groups = (prefix: string) =>
    stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${prefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'OpenSearchDomainLogs',
        principals: [new iam.ServicePrincipal('es.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [groups(SERVICE_LOG_PREFIXES.openSearch)],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      dataSyncTaskLogsStatement(stack, [groups(SERVICE_LOG_PREFIXES.dataSync)]),
    ],
  });
}

/**
 * Writes the account's one CloudWatch Logs resource policy for OpenSearch and DataSync log delivery.
 * Never deleted with a stack: other stages in the account rely on it.
 */
export class SharedLogDeliveryPolicy extends Construct {
  /** Depend on this before a service starts writing to its log group. */
  public readonly ready: IDependable;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const put = new cr.AwsCustomResource(this, 'Put', {
      resourceType: 'Custom::LogDeliveryPolicy',
      onUpdate: {
        service: 'CloudWatchLogs',
        action: 'putResourcePolicy',
        parameters: {
          policyName: LOG_DELIVERY_POLICY_NAME,
          policyDocument: stack.toJsonString(logDeliveryPolicyDocument(stack).toJSON()),
        },
        physicalResourceId: cr.PhysicalResourceId.of(LOG_DELIVERY_POLICY_NAME),
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        // PutResourcePolicy has no resource type.
        new iam.PolicyStatement({ actions: ['logs:PutResourcePolicy'], resources: ['*'] }),
      ]),
      installLatestAwsSdk: false,
    });
    Validations.of(put).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'logs:PutResourcePolicy supports no resource-level permissions; the call writes one named policy.',
    });
    this.ready = put;
    acknowledgeAwsCustomResourceProvider(stack);
  }
}

/**
 * Lets DataSync tasks of this account and Region write task logs into `logGroupArns` (DataSync writes
 * with its service principal: https://docs.aws.amazon.com/datasync/latest/userguide/configure-logging.html).
 */
export function dataSyncTaskLogsStatement(stack: Stack, logGroupArns: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DataSyncTaskLogs',
    principals: [new iam.ServicePrincipal('datasync.amazonaws.com')],
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: logGroupArns,
    conditions: {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'datasync',
          resource: 'task',
          resourceName: '*',
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      },
    },
  });
}
