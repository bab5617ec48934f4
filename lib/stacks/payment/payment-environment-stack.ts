import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LogReplication } from '../../constructs/payment/log-replication';
import { PaymentEnvironment } from '../../constructs/payment/payment-environment';
import { PaymentEnvironmentSecurityGroups } from './payment-network-stack';
import { replicaNames } from './payment-replica-stack';
import { CUTOVER_PARAMETERS } from '../../constructs/payment/cutover-workflow';
import { cutoverParameterPrefix, PaymentRole, PaymentStackProps, paymentRemoval } from './payment-stack-props';

/** S3 Replication Time Control's only supported threshold. */
export const REPLICATION_TIME_MINUTES = 15;

export interface PaymentEnvironmentStackProps extends PaymentStackProps {
  readonly role: PaymentRole;
  readonly vpc: ec2.IVpc;
  readonly securityGroups: PaymentEnvironmentSecurityGroups;
  readonly rotationSecurityGroup: ec2.ISecurityGroup;
  readonly dataKey: kms.IKey;
  readonly logKey: kms.IKey;
}

/**
 * One side of the cutover (source or target) in a stack of its own, so each deploys and rolls back
 * independently: a failed update of the target never touches the live source. The source also
 * replicates its transaction logs to the replica region.
 */
export class PaymentEnvironmentStack extends Stack {
  public readonly paymentEnvironment: PaymentEnvironment;
  /** Present on the source only. */
  public readonly logReplication?: LogReplication;

  constructor(scope: Construct, id: string, props: PaymentEnvironmentStackProps) {
    super(scope, id, props);
    const { config, role } = props;
    this.paymentEnvironment = new PaymentEnvironment(this, 'Environment', {
      role,
      config,
      namePrefix: props.namePrefix,
      vpc: props.vpc,
      loadBalancerSecurityGroup: props.securityGroups.loadBalancer,
      serviceSecurityGroup: props.securityGroups.service,
      databaseSecurityGroup: props.securityGroups.database,
      rotationSecurityGroup: props.rotationSecurityGroup,
      dataKey: props.dataKey,
      logKey: props.logKey,
      removalPolicy: paymentRemoval(config),
      databasePointerName: `${cutoverParameterPrefix(props.namePrefix)}/${CUTOVER_PARAMETERS.databasePointer}`,
    });
    if (role === 'source') {
      const names = replicaNames(props.namePrefix);
      this.logReplication = new LogReplication(this, 'LogReplication', {
        sourceBucket: this.paymentEnvironment.logBucket,
        sourceKey: props.logKey,
        destinationBucketName: names.bucketName,
        destinationRegion: config.replicaRegion,
        destinationKeyAlias: names.keyAlias,
        replicationTimeMinutes: REPLICATION_TIME_MINUTES,
      });
    }
  }
}
