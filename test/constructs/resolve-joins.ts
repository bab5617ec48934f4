/**
 * A template value with its `Fn::Join`s joined and `Ref AWS::Partition` read as `aws`, so an ARN or an
 * SDK call of a custom resource (a JSON string built with joins) can be compared or parsed as text.
 * `other` names what any other intrinsic stands for (an imported value, say); left as it is by default.
 */
export function resolveJoins(
  value: unknown,
  other: (intrinsic: Record<string, unknown>) => unknown = (o) => o,
): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveJoins(v, other));
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  if (o.Ref === 'AWS::Partition') return 'aws';
  if (Array.isArray(o['Fn::Join'])) {
    const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveJoins(p, other)).join(separator);
  }
  const keys = Object.keys(o);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return other(o);
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveJoins(v, other)]));
}
