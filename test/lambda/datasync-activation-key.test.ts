import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  activationUrl,
  AgentNotReadyError,
  fetchActivationKey,
  HttpGet,
  httpGet,
} from '../../lambda/datasync-agent-setup/activation-key';

const KEY = 'ABCDE-12345-FGHIJ-67890-KLMNO';

describe('activationUrl', () => {
  it('asks for a SYNC key for the Region, without redirect', () => {
    expect(activationUrl('10.0.1.20', 'us-west-2')).toBe(
      'http://10.0.1.20/?gatewayType=SYNC&activationRegion=us-west-2&no_redirect',
    );
  });
});

describe('fetchActivationKey', () => {
  it('returns the key the agent answers with', async () => {
    const get = jest
      .fn<ReturnType<HttpGet>, Parameters<HttpGet>>()
      .mockResolvedValue({ statusCode: 200, body: `${KEY}\n` });
    await expect(fetchActivationKey('10.0.1.20', 'us-west-2', { get, timeoutMs: 1234 })).resolves.toBe(KEY);
    expect(get).toHaveBeenCalledWith(activationUrl('10.0.1.20', 'us-west-2'), 1234);
  });

  it.each([
    [
      'a refused connection',
      () => Promise.reject(new Error('connect ECONNREFUSED 10.0.1.20:80')),
      /did not answer on port 80: connect ECONNREFUSED/,
    ],
    ['an HTTP error', () => Promise.resolve({ statusCode: 502, body: 'Bad Gateway' }), /answered HTTP 502/],
    [
      'a page that is not a key',
      () => Promise.resolve({ statusCode: 200, body: '<html>booting</html>' }),
      /without an activation key \(20 characters\)/,
    ],
  ])('reports %s as not ready', async (_case, impl, message) => {
    const error = await fetchActivationKey('10.0.1.20', 'us-west-2', { get: impl as HttpGet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentNotReadyError);
    expect((error as Error).message).toMatch(message);
  });

  it('never quotes a key-like body in its error', async () => {
    const almostKey = 'ABCDE-12345-FGHIJ-67890';
    const error = await fetchActivationKey('10.0.1.20', 'us-west-2', {
      get: async () => ({ statusCode: 200, body: almostKey }),
    }).catch((e: unknown) => e as Error);
    expect((error as Error).message).not.toContain(almostKey);
  });
});

describe('httpGet over node:http', () => {
  let server: http.Server;
  let base: string;
  let behaviour: (res: http.ServerResponse) => void;

  beforeAll(async () => {
    server = http.createServer((_req, res) => behaviour(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('returns status and body', async () => {
    behaviour = (res) => res.writeHead(200).end(KEY);
    await expect(httpGet(`${base}/?gatewayType=SYNC`, 2000)).resolves.toEqual({ statusCode: 200, body: KEY });
  });

  it('does not follow a redirect', async () => {
    behaviour = (res) => res.writeHead(302, { Location: 'https://console.aws.amazon.com/?activationKey=X' }).end();
    await expect(httpGet(base, 2000)).resolves.toMatchObject({ statusCode: 302 });
  });

  it('gives up at the deadline', async () => {
    behaviour = () => undefined; // never answers
    await expect(httpGet(base, 100)).rejects.toThrow('no answer within 100 ms');
  });

  it('refuses an oversized body', async () => {
    behaviour = (res) => res.writeHead(200).end('x'.repeat(10_000));
    await expect(httpGet(base, 2000)).rejects.toThrow(/exceeds 4096 bytes/);
  });
});
