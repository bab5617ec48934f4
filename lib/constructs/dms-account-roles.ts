import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';

/** The two roles DMS looks up by these exact names in every account (they cannot be renamed). */
export const DMS_ACCOUNT_ROLES = [
  { roleName: 'dms-vpc-role', policy: 'service-role/AmazonDMSVPCManagementRole' },
  { roleName: 'dms-cloudwatch-logs-role', policy: 'service-role/AmazonDMSCloudWatchLogsRole' },
] as const;

/**
 * Ensures the account-wide `dms-vpc-role` and `dms-cloudwatch-logs-role` exist. Declaring them as
 * `AWS::IAM::Role` would collide as soon as two stages (dev and a sandbox, say) share an account,
 * so each is created only if absent and never deleted: another stage, or a console user, may depend
 * on it. Creating the role and attaching the AWS-managed policy are both idempotent.
 */
export class DmsAccountRoles extends Construct {
  /** Depend on this before creating a replication subnet group or instance. */
  public readonly ready: IDependable[] = [];

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'dms.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    for (const { roleName, policy } of DMS_ACCOUNT_ROLES) {
      const roleArn = stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: roleName,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      const policyArn = `arn:${stack.partition}:iam::aws:policy/${policy}`;
      const create = new cr.AwsCustomResource(this, `Create-${roleName}`, {
        onUpdate: {
          service: 'IAM',
          action: 'createRole',
          parameters: {
            RoleName: roleName,
            AssumeRolePolicyDocument: trust,
            Description: 'Account-wide role DMS requires',
          },
          physicalResourceId: cr.PhysicalResourceId.of(roleName),
          // Present already (another stage, or created by the DMS console): keep it as it is.
          ignoreErrorCodesMatching: 'EntityAlreadyExists.*',
        },
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({ actions: ['iam:CreateRole'], resources: [roleArn] }),
        ]),
        installLatestAwsSdk: false,
      });
      const attach = new cr.AwsCustomResource(this, `Attach-${roleName}`, {
        onUpdate: {
          service: 'IAM',
          action: 'attachRolePolicy',
          parameters: { RoleName: roleName, PolicyArn: policyArn },
          physicalResourceId: cr.PhysicalResourceId.of(`${roleName}-policy`),
        },
        policy: cr.AwsCustomResourcePolicy.fromStatements([
          new iam.PolicyStatement({
            actions: ['iam:AttachRolePolicy'],
            resources: [roleArn],
            conditions: { ArnEquals: { 'iam:PolicyARN': policyArn } },
          }),
        ]),
        installLatestAwsSdk: false,
      });
      attach.node.addDependency(create);
      this.ready.push(attach);
    }
    acknowledgeAwsCustomResourceProvider(stack);
  }
}

/**
 * The singleton function behind every AwsCustomResource of a stack is created by aws-cdk-lib; its
 * role uses the basic execution managed policy. Acknowledged on that function only.
 */
export function acknowledgeAwsCustomResourceProvider(stack: Stack): void {
  const fn = stack.node.tryFindChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
  if (!fn) return;
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'aws-cdk-lib creates the AwsCustomResource provider with the basic execution policy for its own logs.',
  });
}
