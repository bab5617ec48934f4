import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

/** What an operator needs to act on a failure without opening five consoles first. */
export interface Alert {
  /** Stable machine-readable kind, e.g. `glue-job-retries-exhausted`; also a message attribute for filtering. */
  type: string;
  /** One line; becomes the e-mail subject. */
  title: string;
  /** What happened and what was (or was not) done about it. */
  summary: string;
  /** Where it failed: job and run, task ARN, execution ARN, object. */
  resource: Record<string, string>;
  correlationId?: string;
  /** Automatic attempts made before this alert (0 when none were possible). */
  attempts: number;
  maxAttempts?: number;
  lastError?: string;
  /** Console links (logs, report, execution). */
  links: Record<string, string>;
  /** Anything else worth having in the JSON part. */
  details?: Record<string, unknown>;
}

// SNS Publish: the subject must be printable ASCII and *less than* 100 characters (so 99 at most); keep error
// text well under the 256 KB message cap.
export const SUBJECT_MAX = 99;
const ERROR_TEXT_MAX = 4000;

function subjectOf(title: string): string {
  const printable = title.replace(/[^\x20-\x7E]/g, '?').trim();
  return printable.length <= SUBJECT_MAX ? printable : `${printable.slice(0, SUBJECT_MAX - 3)}...`;
}

function clip(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return text.length <= ERROR_TEXT_MAX ? text : `${text.slice(0, ERROR_TEXT_MAX)}... [truncated]`;
}

export interface RenderedAlert {
  subject: string;
  message: string;
  json: Record<string, unknown>;
}

/** A readable text part for e-mail followed by the same facts as JSON for tools. */
export function renderAlert(alert: Alert, at: Date): RenderedAlert {
  const lastError = clip(alert.lastError);
  const json: Record<string, unknown> = {
    type: alert.type,
    title: alert.title,
    summary: alert.summary,
    resource: alert.resource,
    correlationId: alert.correlationId ?? null,
    attempts: alert.attempts,
    maxAttempts: alert.maxAttempts ?? null,
    lastError: lastError ?? null,
    links: alert.links,
    ...(alert.details === undefined ? {} : { details: alert.details }),
    time: at.toISOString(),
  };
  const lines = [
    alert.title,
    '',
    alert.summary,
    '',
    ...Object.entries(alert.resource).map(([name, value]) => `${name}: ${value}`),
    `correlation id: ${alert.correlationId ?? 'n/a'}`,
    `attempts made: ${alert.attempts}${alert.maxAttempts === undefined ? '' : ` (limit ${alert.maxAttempts})`}`,
    `last error: ${lastError ?? 'n/a'}`,
    '',
    ...Object.entries(alert.links).map(([name, url]) => `${name}: ${url}`),
    '',
    '--- JSON ---',
    JSON.stringify(json, null, 2),
  ];
  return { subject: subjectOf(alert.title), message: lines.join('\n'), json };
}

export async function publishAlert(
  sns: SNSClient,
  topicArn: string,
  alert: Alert,
  at: Date,
): Promise<string | undefined> {
  const rendered = renderAlert(alert, at);
  const out = await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: rendered.subject,
      Message: rendered.message,
      MessageAttributes: {
        alertType: { DataType: 'String', StringValue: alert.type },
        ...(alert.correlationId === undefined
          ? {}
          : { correlationId: { DataType: 'String', StringValue: alert.correlationId } }),
      },
    }),
  );
  return out.MessageId;
}
