import { Template } from 'aws-cdk-lib/assertions';

/** A resource of a stack of a synthesized stage. */
export interface ResourceRef {
  readonly stack: string;
  readonly logicalId: string;
}

type Json = Record<string, any>;

/**
 * Follows a template value to the resource it names: a `Ref` or `Fn::GetAtt` in the value's own
 * stack, or a weak cross-stack reference (`Fn::GetStackOutput`) to an output that is one of those.
 * Any other shape throws, so that a new kind of reference cannot slip past a check.
 *
 * @param stagePrefix the stage's stack-name prefix (`Test` in the shared fixtures)
 */
export function resolveResourceRef(
  value: unknown,
  stack: string,
  templates: Record<string, Template>,
  stagePrefix: string,
): ResourceRef {
  const v = value as Json;
  if (typeof v?.Ref === 'string') return { stack, logicalId: v.Ref };
  if (Array.isArray(v?.['Fn::GetAtt'])) return { stack, logicalId: v['Fn::GetAtt'][0] };
  const out = v?.['Fn::GetStackOutput'];
  if (out) {
    const producer = String(out.StackName).replace(`${stagePrefix}-`, '');
    const outputs = (templates[producer]?.toJSON().Outputs ?? {}) as Json;
    if (!outputs[out.OutputName]) throw new Error(`no output ${out.OutputName} in ${producer}`);
    return resolveResourceRef(outputs[out.OutputName].Value, producer, templates, stagePrefix);
  }
  throw new Error(`reference of unknown shape in ${stack}: ${JSON.stringify(value)}`);
}
