/**
 * AWS console URLs for alerts, so whoever is paged lands on the evidence in one click.
 * The region always comes from the function's environment (AWS_REGION), never from a literal.
 */

/** The CloudWatch Logs console escapes path segments inside its URL fragment as '$25XX' instead of '%XX'. */
function logsFragment(value: string): string {
  return encodeURIComponent(value).replace(/%/g, '$25');
}

export function cloudWatchLogsUrl(region: string, logGroup: string, logStream?: string): string {
  const base = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${logsFragment(logGroup)}`;
  return logStream === undefined ? base : `${base}/log-events/${logsFragment(logStream)}`;
}

export function s3ObjectUrl(region: string, bucket: string, key: string): string {
  return `https://s3.console.aws.amazon.com/s3/object/${encodeURIComponent(bucket)}?region=${region}&prefix=${encodeURIComponent(key)}`;
}

export function stepFunctionsExecutionUrl(region: string, executionArn: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}
