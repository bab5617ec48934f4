import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { onEvent } from '../../lambda/opensearch-setup';
import {
  encodePath,
  OpenSearchError,
  OpenSearchHttp,
  OpenSearchRequest,
  OpenSearchResponse,
  signedHttp,
  withRetries,
} from '../../lambda/opensearch-setup/opensearch-http';
import { applySetup, ISM_POLICY_ID, WRITER_ROLE } from '../../lambda/opensearch-setup/setup';
import { InvalidSetupPropsError, parseSetupProps, SetupProps } from '../../lambda/opensearch-setup/setup-props';
import createEvent from './opensearch-setup-fixtures/cloudformation-create-event.json';

const FIREHOSE_ROLE = 'arn:aws:iam::123456789012:role/Logging-FirehoseDeliveryRole-ABC';
const ADMIN_ROLE = 'arn:aws:iam::123456789012:role/platform-admins';
const MASTER_ROLE = 'arn:aws:iam::123456789012:role/Logging-OpenSearchSetupFunctionRole-XYZ';

const props = (over: Partial<SetupProps> = {}): SetupProps => ({
  endpoint: 'vpc-audit-abc123.us-west-2.es.amazonaws.com',
  indexPattern: 'audit-*',
  retentionDays: 14,
  replicas: 0,
  firehoseRoleArn: FIREHOSE_ROLE,
  ...over,
});

/**
 * An in-memory stand-in for the REST endpoints the setup uses, with the behaviour that matters:
 * ISM updates need the current `_seq_no`/`_primary_term`, `add` skips managed indices, and role
 * mappings are replaced wholesale by PUT.
 */
class FakeOpenSearch {
  readonly calls: OpenSearchRequest[] = [];
  readonly templates = new Map<string, unknown>();
  readonly roles = new Map<string, unknown>();
  readonly mappings = new Map<string, { backend_roles: string[]; hosts: string[]; users: string[] }>();
  policy?: { seqNo: number; body: unknown };
  /** index name → policy id (undefined: unmanaged). */
  readonly indices = new Map<string, string | undefined>();
  policyVersionOf = new Map<string, number>();

  constructor() {
    // What AWS sets up for an IAM master user.
    for (const r of ['all_access', 'security_manager'])
      this.mappings.set(r, { backend_roles: [MASTER_ROLE], hosts: [], users: [] });
  }

  readonly http: OpenSearchHttp = async (req) => {
    this.calls.push(req);
    return this.route(req);
  };

  private route(req: OpenSearchRequest): OpenSearchResponse {
    const { method, path } = req;
    let m: RegExpExecArray | null;
    if ((m = /^\/_index_template\/([\w-]+)$/.exec(path)) && method === 'PUT') {
      this.templates.set(m[1]!, req.body);
      return { status: 200, body: { acknowledged: true } };
    }
    if ((m = /^\/_plugins\/_ism\/policies\/([\w-]+)$/.exec(path))) {
      if (method === 'GET') {
        return this.policy
          ? { status: 200, body: { _id: m[1], _seq_no: this.policy.seqNo, _primary_term: 1, policy: this.policy.body } }
          : { status: 404, body: { error: 'not found' } };
      }
      if (method === 'PUT') {
        if (this.policy) {
          if (req.query?.if_seq_no !== String(this.policy.seqNo) || req.query?.if_primary_term !== '1') {
            return { status: 409, body: { error: 'version_conflict_engine_exception' } };
          }
          this.policy = { seqNo: this.policy.seqNo + 1, body: req.body };
          return { status: 200, body: { _id: m[1] } };
        }
        this.policy = { seqNo: 0, body: req.body };
        return { status: 201, body: { _id: m[1] } };
      }
    }
    if ((m = /^\/_plugins\/_ism\/(add|change_policy)\/(.+)$/.exec(path)) && method === 'POST') {
      const prefix = m[2]!.replace(/\*$/, '');
      let updated = 0;
      const failed: string[] = [];
      for (const [name, managedBy] of this.indices) {
        if (!name.startsWith(prefix)) continue;
        if (m[1] === 'add') {
          if (managedBy) failed.push(name);
          else {
            this.indices.set(name, ISM_POLICY_ID);
            updated++;
          }
        } else if (managedBy) {
          this.policyVersionOf.set(name, this.policy?.seqNo ?? -1);
          updated++;
        }
      }
      return { status: 200, body: { updated_indices: updated, failures: failed.length > 0, failed_indices: failed } };
    }
    if ((m = /^\/_plugins\/_security\/api\/roles\/([\w-]+)$/.exec(path)) && method === 'PUT') {
      this.roles.set(m[1]!, req.body);
      return { status: 200, body: { status: 'OK' } };
    }
    if ((m = /^\/_plugins\/_security\/api\/rolesmapping\/([\w-]+)$/.exec(path))) {
      if (method === 'GET') {
        const mapping = this.mappings.get(m[1]!);
        return mapping
          ? { status: 200, body: { [m[1]!]: { ...mapping, reserved: false, hidden: false } } }
          : { status: 404, body: {} };
      }
      if (method === 'PUT') {
        this.mappings.set(m[1]!, req.body as { backend_roles: string[]; hosts: string[]; users: string[] });
        return { status: 200, body: { status: 'OK' } };
      }
    }
    return { status: 400, body: { error: `fake does not know ${method} ${path}` } };
  }

  /** Everything a second run must leave as the first one left it. */
  state(): unknown {
    return JSON.parse(
      JSON.stringify({
        templates: [...this.templates],
        roles: [...this.roles],
        mappings: [...this.mappings],
        policy: this.policy?.body,
        indices: [...this.indices],
      }),
    );
  }
}

describe('parseSetupProps', () => {
  it('parses what CloudFormation delivers (numbers as strings)', () => {
    expect(parseSetupProps(createEvent.ResourceProperties)).toEqual({
      endpoint: 'vpc-audit-abc123.us-west-2.es.amazonaws.com',
      indexPattern: 'audit-*',
      retentionDays: 14,
      replicas: 0,
      firehoseRoleArn: FIREHOSE_ROLE,
    });
  });

  it('names every bad field at once', () => {
    const bad = {
      Endpoint: 'https://x',
      IndexPattern: 'audit',
      RetentionDays: '0',
      Replicas: 'one',
      FirehoseRoleArn: 'role',
    };
    expect(() => parseSetupProps(bad)).toThrow(InvalidSetupPropsError);
    try {
      parseSetupProps(bad);
    } catch (e) {
      const fields = (e as InvalidSetupPropsError).problems.map((p) => p.split(':')[0]);
      expect(fields).toEqual(['Endpoint', 'IndexPattern', 'RetentionDays', 'Replicas', 'FirehoseRoleArn']);
    }
  });

  it('rejects an admin role that is not a role ARN', () => {
    expect(() =>
      parseSetupProps({ ...createEvent.ResourceProperties, AdminRoleArn: 'arn:aws:iam::123456789012:user/bob' }),
    ).toThrow(/AdminRoleArn/);
  });
});

describe('applySetup', () => {
  it('creates templates, the retention policy and a writer role that cannot delete', async () => {
    const os = new FakeOpenSearch();
    const report = await applySetup(os.http, props({ retentionDays: 30 }));

    expect(report.ismPolicyVersion).toBe('created');
    const policy = (
      os.policy?.body as {
        policy: {
          states: { name: string; actions: unknown[]; transitions: { conditions?: unknown }[] }[];
          ism_template: unknown;
        };
      }
    ).policy;
    expect(policy.states[0]!.transitions[0]!.conditions).toEqual({ min_index_age: '30d' });
    expect(policy.states[1]!.actions).toEqual([{ delete: {} }]);
    expect(policy.ism_template).toEqual([{ index_patterns: ['audit-*'], priority: 100 }]);

    expect([...os.templates.keys()]).toEqual(['audit-events', 'audit-logs']);
    expect(os.templates.get('audit-events')).toMatchObject({
      index_patterns: ['audit-events-*'],
      template: { settings: { number_of_replicas: 0 }, mappings: { properties: { detail: { type: 'flat_object' } } } },
    });

    const role = os.roles.get(WRITER_ROLE) as {
      index_permissions: { index_patterns: string[]; allowed_actions: string[] }[];
      cluster_permissions: string[];
    };
    expect(role.index_permissions).toHaveLength(1);
    expect(role.index_permissions[0]!.index_patterns).toEqual(['audit-*']);
    // Exactly what AWS documents for Firehose on a fine-grained access control domain, nothing wider.
    expect([...role.cluster_permissions].sort()).toEqual(['cluster_composite_ops', 'cluster_monitor']);
    expect([...role.index_permissions[0]!.allowed_actions].sort()).toEqual(['create_index', 'crud', 'manage']);
    expect(os.mappings.get(WRITER_ROLE)).toEqual({ backend_roles: [FIREHOSE_ROLE], hosts: [], users: [] });
  });

  it('attaches the policy to indices Firehose created before the policy existed', async () => {
    const os = new FakeOpenSearch();
    os.indices.set('audit-events-2026-11-22', undefined);
    os.indices.set('other-index', undefined);
    const report = await applySetup(os.http, props());
    expect(report.indicesAttached).toBe(1);
    expect(os.indices.get('audit-events-2026-11-22')).toBe(ISM_POLICY_ID);
    expect(os.indices.get('other-index')).toBeUndefined();
  });

  it('converges: a second run changes nothing', async () => {
    const os = new FakeOpenSearch();
    await applySetup(os.http, props({ adminRoleArn: ADMIN_ROLE }));
    const first = os.state();
    await applySetup(os.http, props({ adminRoleArn: ADMIN_ROLE }));
    expect(os.state()).toEqual(first);
  });

  it('updates the policy with its sequence number and moves managed indices to the new version', async () => {
    const os = new FakeOpenSearch();
    await applySetup(os.http, props({ retentionDays: 14 }));
    os.indices.set('audit-logs-2026-11-01', ISM_POLICY_ID);
    const report = await applySetup(os.http, props({ retentionDays: 90 }), props({ retentionDays: 14 }));
    expect(report.ismPolicyVersion).toBe('updated');
    expect(JSON.stringify(os.policy?.body)).toContain('"min_index_age":"90d"');
    expect(os.policyVersionOf.get('audit-logs-2026-11-01')).toBe(os.policy?.seqNo);
  });

  it('adds the admin role to all_access and security_manager without dropping the master user, and removes a replaced admin', async () => {
    const os = new FakeOpenSearch();
    await applySetup(os.http, props({ adminRoleArn: ADMIN_ROLE }));
    expect(os.mappings.get('all_access')?.backend_roles.sort()).toEqual([MASTER_ROLE, ADMIN_ROLE].sort());
    expect(os.mappings.get('security_manager')?.backend_roles.sort()).toEqual([MASTER_ROLE, ADMIN_ROLE].sort());

    const next = 'arn:aws:iam::123456789012:role/new-admins';
    await applySetup(os.http, props({ adminRoleArn: next }), props({ adminRoleArn: ADMIN_ROLE }));
    expect(os.mappings.get('all_access')?.backend_roles.sort()).toEqual([MASTER_ROLE, next].sort());

    await applySetup(os.http, props(), props({ adminRoleArn: next }));
    expect(os.mappings.get('all_access')?.backend_roles).toEqual([MASTER_ROLE]);
  });

  it('fails with the domain’s answer when a call is refused', async () => {
    const http: OpenSearchHttp = async (req) =>
      req.path.startsWith('/_index_template')
        ? { status: 400, body: { error: { type: 'mapper_parsing_exception' } } }
        : { status: 200, body: {} };
    await expect(applySetup(http, props())).rejects.toThrow(
      /PUT \/_index_template\/audit-events returned HTTP 400: .*mapper_parsing_exception/,
    );
  });
});

describe('onEvent', () => {
  it('applies the setup on Create and names the domain in the physical id', async () => {
    const os = new FakeOpenSearch();
    const endpoints: string[] = [];
    const res = await onEvent(createEvent as unknown as CloudFormationCustomResourceEvent, (endpoint) => {
      endpoints.push(endpoint);
      return os.http;
    });
    expect(endpoints).toEqual(['vpc-audit-abc123.us-west-2.es.amazonaws.com']);
    expect(res.PhysicalResourceId).toBe('opensearch-setup:vpc-audit-abc123.us-west-2.es.amazonaws.com');
    expect(os.policy).toBeDefined();
  });

  it('leaves the domain alone on Delete', async () => {
    const event = {
      ...createEvent,
      RequestType: 'Delete',
      PhysicalResourceId: 'opensearch-setup:x',
    } as unknown as CloudFormationCustomResourceEvent;
    const factory = jest.fn();
    await expect(onEvent(event, factory)).resolves.toEqual({ PhysicalResourceId: 'opensearch-setup:x' });
    expect(factory).not.toHaveBeenCalled();
  });

  it('removes the previous admin on Update', async () => {
    const os = new FakeOpenSearch();
    os.mappings.set('all_access', { backend_roles: [MASTER_ROLE, ADMIN_ROLE], hosts: [], users: [] });
    const event = {
      ...createEvent,
      RequestType: 'Update',
      PhysicalResourceId: 'opensearch-setup:x',
      OldResourceProperties: { ...createEvent.ResourceProperties, AdminRoleArn: ADMIN_ROLE },
    } as unknown as CloudFormationCustomResourceEvent;
    await onEvent(event, () => os.http);
    expect(os.mappings.get('all_access')?.backend_roles).toEqual([MASTER_ROLE]);
  });

  it('rejects bad properties before calling the domain', async () => {
    const event = {
      ...createEvent,
      ResourceProperties: { ...createEvent.ResourceProperties, RetentionDays: 'forever' },
    };
    const factory = jest.fn();
    await expect(onEvent(event as unknown as CloudFormationCustomResourceEvent, factory)).rejects.toThrow(
      /RetentionDays/,
    );
    expect(factory).not.toHaveBeenCalled();
  });
});

describe('withRetries', () => {
  const fakeClock = () => {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
  };
  const options = { maxElapsedMs: 60_000, maxForbiddenMs: 10_000, baseDelayMs: 1_000, maxDelayMs: 8_000 };
  const sequence = (...outcomes: (number | Error)[]): jest.Mock => {
    const fn = jest.fn();
    for (const o of outcomes) {
      if (o instanceof Error) fn.mockRejectedValueOnce(o);
      else fn.mockResolvedValueOnce({ status: o, body: {} });
    }
    return fn;
  };
  const req: OpenSearchRequest = { method: 'GET', path: '/_cluster/health' };

  it('retries 5xx and connection errors while the domain warms up', async () => {
    const http = sequence(503, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 429, 200);
    const res = await withRetries(http, { ...options, ...fakeClock() })(req);
    expect(res.status).toBe(200);
    expect(http).toHaveBeenCalledTimes(4);
  });

  it('returns a client error at once', async () => {
    const http = sequence(400);
    await expect(withRetries(http, { ...options, ...fakeClock() })(req)).resolves.toMatchObject({ status: 400 });
    expect(http).toHaveBeenCalledTimes(1);
  });

  it('gives up on 403 after its shorter budget, naming the call', async () => {
    const http = jest.fn().mockResolvedValue({ status: 403, body: { Message: 'no permissions' } });
    await expect(withRetries(http, { ...options, ...fakeClock() })(req)).rejects.toThrow(OpenSearchError);
    // 1 s + 2 s + 4 s + 8 s = 15 s > 10 s budget: five attempts.
    expect(http).toHaveBeenCalledTimes(5);
  });

  it('gives up on 5xx once the overall budget is spent', async () => {
    const http = jest.fn().mockResolvedValue({ status: 503, body: 'not ready' });
    await expect(withRetries(http, { ...options, ...fakeClock() })(req)).rejects.toThrow(
      /GET \/_cluster\/health returned HTTP 503/,
    );
  });

  it('does not retry errors that are not about the network', async () => {
    const http = jest.fn().mockRejectedValue(new TypeError('bug'));
    await expect(withRetries(http, { ...options, ...fakeClock() })(req)).rejects.toThrow(TypeError);
    expect(http).toHaveBeenCalledTimes(1);
  });
});

describe('signedHttp', () => {
  /** What reached the domain after signing, recorded by a local server the client is pointed at. */
  interface WireRequest {
    pathAndQuery: string;
    headers: Record<string, string>;
    body: string;
  }
  const sent: WireRequest[] = [];
  let reply = { status: 200, body: '{"updated_indices":2}' };
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        sent.push({
          pathAndQuery: req.url ?? '',
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs for service es in the region and sends the encoded path, query and JSON body', async () => {
    const http = signedHttp({
      endpoint: 'vpc-audit-abc123.us-west-2.es.amazonaws.com',
      region: 'us-west-2',
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        sessionToken: 'token',
      },
      node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    const res = await http({
      method: 'POST',
      path: '/_plugins/_ism/add/audit-*',
      query: { if_seq_no: '3' },
      body: { policy_id: 'p' },
    });

    expect(res).toEqual({ status: 200, body: { updated_indices: 2 } });
    const w = sent[0]!;
    expect(w.pathAndQuery).toBe('/_plugins/_ism/add/audit-%2A?if_seq_no=3');
    expect(w.body).toBe('{"policy_id":"p"}');
    expect(w.headers['content-type']).toBe('application/json');
    expect(w.headers['x-amz-security-token']).toBe('token');
    expect(w.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-west-2\/es\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(JSON.stringify(w.headers)).not.toContain('wJalrXUtnFEMI');
  });

  it('returns an error status with its body for the caller to judge, instead of throwing', async () => {
    reply = { status: 404, body: '{"error":"policy not found"}' };
    const http = signedHttp({
      endpoint: 'vpc-audit-abc123.us-west-2.es.amazonaws.com',
      region: 'us-west-2',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    await expect(http({ method: 'GET', path: '/_plugins/_ism/policies/p' })).resolves.toEqual({
      status: 404,
      body: { error: 'policy not found' },
    });
  });

  it('encodes each path segment but keeps the slashes', () => {
    expect(encodePath('/_plugins/_security/api/rolesmapping/all_access')).toBe(
      '/_plugins/_security/api/rolesmapping/all_access',
    );
    expect(encodePath('/a b/c*')).toBe('/a%20b/c%2A');
  });
});
