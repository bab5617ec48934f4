import * as dms from 'aws-cdk-lib/aws-dms';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, IDependable } from 'constructs';

/** How a stage sizes its replication instance (`config.dms` of both stages). */
export interface ReplicationInstanceSizing {
  readonly instanceClass: string;
  readonly allocatedStorageGb: number;
  readonly multiAz: boolean;
  /** @default the engine version DMS picks when the instance is created */
  readonly engineVersion?: string;
}

export interface PrivateReplicationInstanceProps {
  /** `replicationInstanceIdentifier`; DMS names the task log group after it (`dms-tasks-<identifier>`). */
  readonly identifier: string;
  readonly sizing: ReplicationInstanceSizing;
  /** Encrypts the instance's storage. */
  readonly storageKey: kms.IKey;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The instance goes into this VPC's private subnets with egress. */
  readonly vpc: ec2.IVpc;
  readonly subnetGroupDescription: string;
  /** `dms-vpc-role` and `dms-cloudwatch-logs-role` exist (DmsAccountRoles): DMS needs them for the subnet group. */
  readonly accountRolesReady: readonly IDependable[];
}

/**
 * A DMS replication instance that is not publicly accessible, in the VPC's private subnets with egress,
 * its storage encrypted with `storageKey`, on automatic minor upgrades. Its subnet group (`SubnetGroup`) and
 * the instance (`ReplicationInstance`) are created in `scope` under those ids, so the stacks that call this
 * keep their logical ids.
 */
export function privateReplicationInstance(
  scope: Construct,
  props: PrivateReplicationInstanceProps,
): dms.CfnReplicationInstance {
  const subnetGroup = new dms.CfnReplicationSubnetGroup(scope, 'SubnetGroup', {
    replicationSubnetGroupDescription: props.subnetGroupDescription,
    subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
  });
  subnetGroup.node.addDependency(...props.accountRolesReady);
  const instance = new dms.CfnReplicationInstance(scope, 'ReplicationInstance', {
    replicationInstanceIdentifier: props.identifier,
    replicationInstanceClass: props.sizing.instanceClass,
    allocatedStorage: props.sizing.allocatedStorageGb,
    multiAz: props.sizing.multiAz,
    publiclyAccessible: false,
    kmsKeyId: props.storageKey.keyArn,
    vpcSecurityGroupIds: [props.securityGroup.securityGroupId],
    replicationSubnetGroupIdentifier: subnetGroup.ref,
    autoMinorVersionUpgrade: true,
    ...(props.sizing.engineVersion ? { engineVersion: props.sizing.engineVersion } : {}),
  });
  instance.node.addDependency(...props.accountRolesReady);
  return instance;
}
