import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Client, errors } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** One REST call to the domain. `path` is unencoded (`/_plugins/_ism/add/audit-*`); it is encoded here. */
export interface OpenSearchRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'PATCH';
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface OpenSearchResponse {
  readonly status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  readonly body: unknown;
}

/** The seam tests replace: everything above it is plain logic. */
export type OpenSearchHttp = (req: OpenSearchRequest) => Promise<OpenSearchResponse>;

/** A response the caller cannot accept; the message names the call and the domain's reason. */
export class OpenSearchError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly responseBody: unknown,
  ) {
    super(`${method} ${path} returned HTTP ${status}: ${truncate(JSON.stringify(responseBody))}`);
    this.name = 'OpenSearchError';
  }
}

function truncate(s: string | undefined, max = 500): string {
  if (s === undefined) return '';
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** RFC 3986 encoding (encodeURIComponent leaves `*` and friends alone, which OpenSearch paths may hold). */
function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Encodes each path segment, keeping the slashes: `transport.request` sends the path as given. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeRfc3986(segment))
    .join('/');
}

export interface SignedHttpOptions {
  readonly endpoint: string;
  readonly region: string;
  /** @default the SDK's default credential chain (the execution role's variables in Lambda) */
  readonly credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Where requests go; tests point it at a local server. @default `https://${endpoint}` */
  readonly node?: string;
}

/**
 * An `OpenSearchHttp` on the OpenSearch JavaScript client, signing each request with SigV4 for service `es`
 * (IAM master user under FGAC). The client's own retries are off: they repeat at once and know nothing of a
 * warming domain's 403s, so {@link withRetries} alone decides (with backoff) what is tried again.
 */
export function signedHttp(opts: SignedHttpOptions): OpenSearchHttp {
  const given = opts.credentials ?? defaultProvider();
  const credentials = typeof given === 'function' ? given : async () => given;
  const client = new Client({
    ...AwsSigv4Signer({ region: opts.region, service: 'es', getCredentials: () => credentials() }),
    node: opts.node ?? `https://${opts.endpoint}`,
    maxRetries: 0,
    requestTimeout: 30_000,
  });
  return async (req) => {
    try {
      const res = await client.transport.request({
        method: req.method,
        path: encodePath(req.path),
        querystring: { ...(req.query ?? {}) },
        ...(req.body !== undefined ? { body: req.body as Record<string, unknown> } : {}),
      });
      return { status: res.statusCode ?? 0, body: bodyOf(res.body) };
    } catch (err) {
      // A status the caller decides about (404 on a first GET, 409 on a raced PUT), not a failed call.
      if (err instanceof errors.ResponseError) return { status: err.meta.statusCode ?? 0, body: bodyOf(err.meta.body) };
      throw err;
    }
  };
}

function bodyOf(body: unknown): unknown {
  return body === '' || body === null ? undefined : body;
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EPIPE',
]);

/** The reason to try again when `err` is a network failure, else undefined. */
function networkFailure(err: unknown): string | undefined {
  // The client reports a refused, reset or unresolved connection as ConnectionError, a slow one as TimeoutError.
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError) return `${err.name}: ${err.message}`;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code) ? code : undefined;
}

export interface RetryOptions {
  /** Give up once this much time has passed since the first attempt. */
  readonly maxElapsedMs: number;
  /** 403 is retried only this long: a new role or access policy takes a moment to apply, a wrong one never will. */
  readonly maxForbiddenMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly onRetry?: (info: { attempt: number; reason: string; delayMs: number }) => void;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxElapsedMs: 8 * 60_000,
  maxForbiddenMs: 2 * 60_000,
  baseDelayMs: 2_000,
  maxDelayMs: 30_000,
};

/**
 * Retries while a fresh domain warms up: connection errors, 5xx (security plugin not initialised yet),
 * 429, and for a short while 403. Any other status is returned to the caller unchanged.
 */
export function withRetries(http: OpenSearchHttp, options: RetryOptions = DEFAULT_RETRY): OpenSearchHttp {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  return async (req) => {
    const started = now();
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let forbidden = false;
      try {
        const res = await http(req);
        if (res.status < 500 && res.status !== 429 && res.status !== 403) return res;
        forbidden = res.status === 403;
        reason = `HTTP ${res.status}`;
        const elapsed = now() - started;
        if (elapsed >= options.maxElapsedMs || (forbidden && elapsed >= options.maxForbiddenMs)) {
          throw new OpenSearchError(res.status, req.method, req.path, res.body);
        }
      } catch (err) {
        if (err instanceof OpenSearchError) throw err;
        const retryable = networkFailure(err);
        if (retryable === undefined || now() - started >= options.maxElapsedMs) throw err;
        reason = retryable;
      }
      const delayMs = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      options.onRetry?.({ attempt, reason, delayMs });
      await sleep(delayMs);
    }
  };
}
