import { Template } from 'aws-cdk-lib/assertions';
import { synthStage } from '../support/stage-fixture';

/**
 * Physical names of retained resources that are fixed on purpose, each with the reason. A fixed
 * name on a retained resource makes a re-create (or a replacing change) fail with "already exists"
 * while the old resource lives on; everything else must let CloudFormation name it or carry the
 * stack id's UUID.
 */
export const FIXED_NAME_ALLOWLIST: Readonly<Record<string, string>> = {};

/** Property keys that hold a physical name or identifier. */
const NAME_KEY = /(^Name$|Name$|Identifier$)/;
/** Keys ending in Name that are not the resource's own physical name. */
const NOT_OWN_NAME =
  /^(DisplayName|KeyName|DBSubnetGroupName|DBClusterParameterGroupName|DBParameterGroupName|SourceDBClusterIdentifier|ReplicationSubnetGroupIdentifier|SecurityConfiguration|DomainName|DatabaseName|DefaultDatabaseName|LogStreamName|MasterUsername|EngineName|ParameterGroupName)$/;

/**
 * A name is unique per deployment when it includes the stack id (its UUID), or is derived from a
 * resource CloudFormation names (a `Ref`/`Fn::GetAtt` of a resource in the same template; such a
 * resource is itself checked when it is retained).
 */
function uniquePerDeployment(value: unknown, resources: Record<string, unknown>): boolean {
  const json = JSON.stringify(value);
  if (json.includes('"AWS::StackId"')) return true;
  const refs = [...json.matchAll(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)/g)].map((m) => m[1]!);
  return refs.some((r) => r in resources);
}

function fixedNames(templates: Record<string, Template>): string[] {
  const found: string[] = [];
  for (const [stack, t] of Object.entries(templates)) {
    const resources = t.toJSON().Resources as Record<
      string,
      { Type: string; DeletionPolicy?: string; Properties?: Record<string, unknown> }
    >;
    for (const [id, r] of Object.entries(resources)) {
      if (
        r.DeletionPolicy !== 'Retain' &&
        r.DeletionPolicy !== 'RetainExceptOnCreate' &&
        r.DeletionPolicy !== 'Snapshot'
      )
        continue;
      for (const [key, value] of Object.entries(r.Properties ?? {})) {
        if (!NAME_KEY.test(key) || NOT_OWN_NAME.test(key)) continue;
        // A log stream's group is its parent, not its own name.
        if (r.Type === 'AWS::Logs::LogStream' && key === 'LogGroupName') continue;
        if (uniquePerDeployment(value, resources)) continue;
        const entry = `${stack}/${r.Type}/${key}`;
        if (!(entry in FIXED_NAME_ALLOWLIST)) found.push(`${entry} (${id}) = ${JSON.stringify(value)}`);
      }
    }
  }
  return found;
}

describe.each(['prod', 'staging'] as const)('retained resources of %s', (env) => {
  const { templates } = synthStage(env);
  it('have no fixed physical name outside the documented allowlist', () => {
    expect(fixedNames(templates)).toEqual([]);
  });
});
