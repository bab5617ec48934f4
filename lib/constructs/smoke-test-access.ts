import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeGrantActionGroups, REF } from '../compliance/nag';
import { DATA_PREFIXES } from '../stacks/storage-stack';

/** Name of the role the pipeline's smoke test assumes in a target account. */
export const smokeTestRoleName = (envName: string) => `migration-smoke-${envName}`;

/** Prefixes the smoke test writes to, reads and cleans up. */
const SMOKE_PREFIXES = [
  DATA_PREFIXES.incoming,
  DATA_PREFIXES.validated,
  DATA_PREFIXES.quarantine,
  DATA_PREFIXES.reports,
].map((p) => `${p}smoke/*`);

export interface SmokeTestAccessProps {
  /** Environment name; the role is `migration-smoke-<envName>`, which the pipeline builds the same way. */
  readonly envName: string;
  /** Account whose pipeline runs the post-deploy smoke test and may assume the role. */
  readonly trustedAccount: string;
  /** Bucket the smoke test drops files into and cleans up, under the `smoke/` sub-prefixes only. */
  readonly dataBucket: s3.IBucket;
  /** The replication workflow whose executions the smoke test lists and describes. */
  readonly stateMachine: sfn.IStateMachine;
  /** Longest session of the assumed role. @default Duration.hours(1) */
  readonly maxSessionDuration?: Duration;
}

/**
 * The role the pipeline's post-deploy smoke test assumes in the target account, so it acts there
 * with exactly the smoke-test permissions: write, read and delete under the `smoke/` sub-prefixes, list and
 * describe executions of the workflow. Declares the stack output `SmokeTestRoleArn`, which the
 * pipeline hands to the test.
 */
export class SmokeTestAccess extends Construct {
  public readonly role: iam.Role;
  public readonly roleArnOutput: CfnOutput;

  constructor(scope: Construct, id: string, props: SmokeTestAccessProps) {
    super(scope, id);
    const { dataBucket, stateMachine } = props;
    this.role = new iam.Role(this, 'Role', {
      roleName: smokeTestRoleName(props.envName),
      assumedBy: new iam.AccountPrincipal(props.trustedAccount),
      description: 'Assumed by the pipeline smoke test: drops files under */smoke/ and watches the workflow',
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
    });
    dataBucket.grantPut(this.role, `${DATA_PREFIXES.incoming}smoke/*`);
    for (const prefix of SMOKE_PREFIXES) {
      dataBucket.grantRead(this.role, prefix);
      dataBucket.grantDelete(this.role, prefix);
    }
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [dataBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': SMOKE_PREFIXES.map((p) => p.replace('*', '')) } },
      }),
    );
    // A versioned bucket keeps deleted objects as versions; cleaning up removes those too.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:DeleteObjectVersion'],
        resources: SMOKE_PREFIXES.map((p) => dataBucket.arnForObjects(p)),
      }),
    );
    stateMachine.grant(this.role, 'states:ListExecutions');
    stateMachine.grantExecution(this.role, 'states:DescribeExecution');

    acknowledgeGrantActionGroups(
      this.role,
      'the smoke/ sub-prefixes the smoke test writes and cleans up, and the data key',
    );
    Validations.of(this.role).acknowledge(
      ...SMOKE_PREFIXES.map((prefix) => ({
        id: `AwsSolutions-IAM5[Resource::${REF}/${prefix}]`,
        reason: `Smoke-test objects under ${prefix} only.`,
      })),
      {
        id: `AwsSolutions-IAM5[Resource::arn:${REF}:states:${REF}:execution:${REF}:*]`,
        reason: 'Executions of this one state machine, whose names are not known before they run.',
      },
    );

    this.roleArnOutput = new CfnOutput(this, 'RoleArn', { value: this.role.roleArn });
    // The stack's output keeps its short name: operators and the pipeline look it up by it.
    this.roleArnOutput.overrideLogicalId('SmokeTestRoleArn');
  }
}
