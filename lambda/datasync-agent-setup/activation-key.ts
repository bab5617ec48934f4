import * as http from 'node:http';

/** A plain HTTP GET with a deadline; replaced in tests. */
export type HttpGet = (url: string, timeoutMs: number) => Promise<{ statusCode: number; body: string }>;

/** DataSync activation keys look like `ABCDE-12345-FGHIJ-67890-KLMNO` (CreateAgent API reference). */
const ACTIVATION_KEY_PATTERN = /^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/;

/** The agent answers 1 KB at most; anything larger is not an activation key. */
const MAX_BODY_BYTES = 4096;

/** Raised when the agent is not (yet) able to hand out a key; the caller retries within its budget. */
export class AgentNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentNotReadyError';
  }
}

/**
 * URL of the agent's local activation endpoint for activation over the public service endpoint.
 * `no_redirect` makes the agent return the key as the body instead of redirecting to the console
 * (the same request the AWS::DataSync::Agent resource handler sends).
 * https://docs.aws.amazon.com/datasync/latest/userguide/activate-agent.html#get-activation-key
 */
export function activationUrl(agentIp: string, region: string): string {
  const query = new URLSearchParams({ gatewayType: 'SYNC', activationRegion: region });
  return `http://${agentIp}/?${query.toString()}&no_redirect`;
}

/** GET over node:http; no redirects followed, body capped, socket closed at the deadline. */
export const httpGet: HttpGet = (url, timeoutMs) =>
  new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      request.destroy();
      reject(error);
    };
    const request = http.get(url, { timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) fail(new Error(`response body exceeds ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ statusCode: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', fail);
    });
    request.on('timeout', () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', fail);
  });

/**
 * Asks the agent for an activation key. Any failure (refused, timeout, HTTP error, a body that is
 * not a key — the agent serves other pages while it boots) is an {@link AgentNotReadyError}.
 * The key itself is never put in an error message: it activates an agent into this account.
 */
export async function fetchActivationKey(
  agentIp: string,
  region: string,
  options: { readonly get?: HttpGet; readonly timeoutMs?: number } = {},
): Promise<string> {
  const get = options.get ?? httpGet;
  let response: { statusCode: number; body: string };
  try {
    response = await get(activationUrl(agentIp, region), options.timeoutMs ?? 5000);
  } catch (error) {
    throw new AgentNotReadyError(
      `agent ${agentIp} did not answer on port 80: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (response.statusCode !== 200) {
    throw new AgentNotReadyError(`agent ${agentIp} answered HTTP ${response.statusCode}`);
  }
  const key = response.body.trim();
  if (!ACTIVATION_KEY_PATTERN.test(key)) {
    throw new AgentNotReadyError(
      `agent ${agentIp} answered HTTP 200 without an activation key (${key.length} characters)`,
    );
  }
  return key;
}
