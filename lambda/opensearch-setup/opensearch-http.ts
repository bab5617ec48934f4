import { request as httpsRequest } from 'node:https';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

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

/** What goes on the wire after signing. */
export interface WireRequest {
  readonly hostname: string;
  readonly method: string;
  /** Encoded path plus query string. */
  readonly pathAndQuery: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export type Transport = (req: WireRequest) => Promise<{ status: number; body: string }>;

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

/** RFC 3986 encoding as SigV4 expects it (encodeURIComponent leaves `*` and friends alone). */
export function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeRfc3986(segment))
    .join('/');
}

/** Reads the Lambda execution role's credentials from the variables Lambda sets. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsCredentialIdentity {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; the function must run with an execution role.',
    );
  }
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** Sends a request over HTTPS and collects the whole response. */
export const httpsTransport: Transport = (req) =>
  new Promise((resolve, reject) => {
    const r = httpsRequest(
      {
        hostname: req.hostname,
        port: 443,
        method: req.method,
        path: req.pathAndQuery,
        headers: req.headers,
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () =>
      r.destroy(Object.assign(new Error(`timeout calling ${req.hostname}`), { code: 'ETIMEDOUT' })),
    );
    r.on('error', reject);
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });

export interface SignedHttpOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  readonly transport?: Transport;
}

/** An `OpenSearchHttp` that signs each request with SigV4 for service `es` (IAM master user under FGAC). */
export function signedHttp(opts: SignedHttpOptions): OpenSearchHttp {
  const signer = new SignatureV4({ service: 'es', region: opts.region, credentials: opts.credentials, sha256: Sha256 });
  const transport = opts.transport ?? httpsTransport;
  return async (req) => {
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const path = encodePath(req.path);
    const headers: Record<string, string> = { host: opts.endpoint };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const signed = await signer.sign({
      method: req.method,
      protocol: 'https:',
      hostname: opts.endpoint,
      path,
      query: { ...(req.query ?? {}) },
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const queryString = Object.entries(req.query ?? {})
      .map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`)
      .join('&');
    const res = await transport({
      hostname: opts.endpoint,
      method: req.method,
      pathAndQuery: queryString ? `${path}?${queryString}` : path,
      headers: signed.headers,
      ...(body !== undefined ? { body } : {}),
    });
    return { status: res.status, body: parseBody(res.body) };
  };
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
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
        const code = (err as { code?: unknown }).code;
        if (typeof code !== 'string' || !RETRYABLE_NETWORK_CODES.has(code) || now() - started >= options.maxElapsedMs) {
          throw err;
        }
        reason = code;
      }
      const delayMs = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      options.onRetry?.({ attempt, reason, delayMs });
      await sleep(delayMs);
    }
  };
}
