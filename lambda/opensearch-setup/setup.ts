import { OpenSearchError, OpenSearchHttp, OpenSearchRequest, OpenSearchResponse } from './opensearch-http';
import { SetupProps } from './setup-props';

export const ISM_POLICY_ID = 'audit-retention';
export const WRITER_ROLE = 'audit_writer';
/** Roles that make a backend role an administrator (what AWS maps the master user to). */
export const ADMIN_ROLES = ['all_access', 'security_manager'] as const;

/**
 * The permissions AWS documents for a Firehose delivery role on a domain with fine-grained access
 * control ("Fine-grained access control in Amazon OpenSearch Service", Integrations): cluster
 * `cluster_composite_ops` and `cluster_monitor`; on the destination indices `create_index`, `manage`
 * and `crud`. A narrower hand-picked set risks refused deliveries when Firehose's calls change, and
 * only the Firehose service can assume the role (its trust policy names firehose.amazonaws.com and
 * this account), so the trail's writer is no person. ISM still expires the indices.
 */
export const FIREHOSE_CLUSTER_PERMISSIONS = ['cluster_composite_ops', 'cluster_monitor'] as const;
export const FIREHOSE_INDEX_PERMISSIONS = ['create_index', 'manage', 'crud'] as const;

export function writerRole(indexPattern: string): object {
  return {
    description: 'Amazon Data Firehose delivery of the migration audit trail (permissions AWS documents for Firehose)',
    cluster_permissions: [...FIREHOSE_CLUSTER_PERMISSIONS],
    index_permissions: [{ index_patterns: [indexPattern], allowed_actions: [...FIREHOSE_INDEX_PERMISSIONS] }],
  };
}

/** Deletes every matching index older than the retention; `ism_template` attaches it to new indices. */
export function ismPolicy(indexPattern: string, retentionDays: number): object {
  return {
    policy: {
      description: `Delete ${indexPattern} indices ${retentionDays} days after creation (managed by LoggingStack)`,
      default_state: 'hot',
      states: [
        {
          name: 'hot',
          actions: [],
          transitions: [{ state_name: 'delete', conditions: { min_index_age: `${retentionDays}d` } }],
        },
        { name: 'delete', actions: [{ delete: {} }], transitions: [] },
      ],
      ism_template: [{ index_patterns: [indexPattern], priority: 100 }],
    },
  };
}

/** Index templates for the two Firehose indices; names match LoggingStack's `IndexName`s. */
export function indexTemplates(indexPattern: string, replicas: number): Record<string, object> {
  const prefix = indexPattern.slice(0, -1); // 'audit-'
  const settings = { number_of_shards: 1, number_of_replicas: replicas };
  return {
    [`${prefix}events`]: {
      index_patterns: [`${prefix}events-*`],
      priority: 100,
      template: {
        settings,
        mappings: {
          properties: {
            id: { type: 'keyword' },
            time: { type: 'date' },
            source: { type: 'keyword' },
            'detail-type': { type: 'keyword' },
            account: { type: 'keyword' },
            region: { type: 'keyword' },
            resources: { type: 'keyword' },
            // Every service shapes `detail` differently; a flat object avoids mapping conflicts
            // (the same key a string in one event and an object in another) that would reject events.
            detail: { type: 'flat_object' },
          },
        },
      },
    },
    [`${prefix}logs`]: {
      index_patterns: [`${prefix}logs-*`],
      priority: 100,
      template: {
        settings,
        mappings: {
          properties: {
            '@timestamp': { type: 'date' },
            owner: { type: 'keyword' },
            logGroup: { type: 'keyword' },
            logStream: { type: 'keyword' },
            subscriptionFilters: { type: 'keyword' },
            eventCount: { type: 'integer' },
            events: {
              properties: {
                id: { type: 'keyword' },
                '@timestamp': { type: 'date' },
                message: { type: 'text' },
              },
            },
          },
        },
      },
    },
  };
}

export interface SetupReport {
  readonly ismPolicyVersion: 'created' | 'updated';
  readonly indicesAttached: number;
  readonly templates: readonly string[];
}

async function call(
  http: OpenSearchHttp,
  req: OpenSearchRequest,
  accept: readonly number[] = [200, 201],
): Promise<OpenSearchResponse> {
  const res = await http(req);
  if (!accept.includes(res.status)) throw new OpenSearchError(res.status, req.method, req.path, res.body);
  return res;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Creates or updates the ISM policy, using optimistic concurrency on update as the ISM API requires. */
async function putIsmPolicy(http: OpenSearchHttp, props: SetupProps): Promise<'created' | 'updated'> {
  const path = `/_plugins/_ism/policies/${ISM_POLICY_ID}`;
  const body = ismPolicy(props.indexPattern, props.retentionDays);
  const existing = await call(http, { method: 'GET', path }, [200, 404]);
  if (existing.status === 404) {
    await call(http, { method: 'PUT', path, body });
    return 'created';
  }
  const current = existing.body as { _seq_no?: unknown; _primary_term?: unknown };
  const seqNo = num(current._seq_no);
  const primaryTerm = num(current._primary_term);
  if (seqNo === undefined || primaryTerm === undefined) {
    throw new OpenSearchError(existing.status, 'GET', path, {
      reason: 'response lacks _seq_no/_primary_term',
      body: existing.body,
    });
  }
  await call(http, {
    method: 'PUT',
    path,
    query: { if_seq_no: String(seqNo), if_primary_term: String(primaryTerm) },
    body,
  });
  return 'updated';
}

/**
 * Indices created before the policy existed (Firehose may deliver while the stack is still deploying)
 * are not picked up by `ism_template`; attach the policy to them. Already-managed indices are
 * reported as failures by ISM and are moved to the new policy version with `change_policy`.
 */
async function attachPolicy(http: OpenSearchHttp, props: SetupProps, updated: boolean): Promise<number> {
  const add = await call(http, {
    method: 'POST',
    path: `/_plugins/_ism/add/${props.indexPattern}`,
    body: { policy_id: ISM_POLICY_ID },
  });
  const attached = num((add.body as { updated_indices?: unknown } | undefined)?.updated_indices) ?? 0;
  if (updated) {
    await call(http, {
      method: 'POST',
      path: `/_plugins/_ism/change_policy/${props.indexPattern}`,
      body: { policy_id: ISM_POLICY_ID },
    });
  }
  return attached;
}

interface RoleMapping {
  backend_roles?: string[];
  hosts?: string[];
  users?: string[];
}

/** Adds `add` to (and removes `remove` from) a role mapping's backend roles, keeping everything else. */
async function updateBackendRoles(
  http: OpenSearchHttp,
  role: string,
  add: string | undefined,
  remove: string | undefined,
): Promise<void> {
  const path = `/_plugins/_security/api/rolesmapping/${role}`;
  const res = await call(http, { method: 'GET', path }, [200, 404]);
  const current: RoleMapping = res.status === 200 ? ((res.body as Record<string, RoleMapping>)[role] ?? {}) : {};
  const backendRoles = new Set(current.backend_roles ?? []);
  if (remove !== undefined && remove !== add) backendRoles.delete(remove);
  if (add !== undefined) backendRoles.add(add);
  const unchanged =
    backendRoles.size === (current.backend_roles ?? []).length &&
    (current.backend_roles ?? []).every((r) => backendRoles.has(r));
  if (unchanged) return;
  await call(http, {
    method: 'PUT',
    path,
    body: { backend_roles: [...backendRoles], hosts: current.hosts ?? [], users: current.users ?? [] },
  });
}

/**
 * Brings the domain to the desired state. Every step is a create-or-replace, so running it again
 * (stack update, retried deployment) converges to the same result.
 */
export async function applySetup(http: OpenSearchHttp, props: SetupProps, previous?: SetupProps): Promise<SetupReport> {
  const templates = indexTemplates(props.indexPattern, props.replicas);
  for (const [name, body] of Object.entries(templates)) {
    await call(http, { method: 'PUT', path: `/_index_template/${name}`, body });
  }
  const ismPolicyVersion = await putIsmPolicy(http, props);
  const indicesAttached = await attachPolicy(http, props, ismPolicyVersion === 'updated');

  await call(http, {
    method: 'PUT',
    path: `/_plugins/_security/api/roles/${WRITER_ROLE}`,
    body: writerRole(props.indexPattern),
  });
  await call(http, {
    method: 'PUT',
    path: `/_plugins/_security/api/rolesmapping/${WRITER_ROLE}`,
    body: { backend_roles: [props.firehoseRoleArn], hosts: [], users: [] },
  });

  const oldAdmin = previous?.adminRoleArn;
  if (props.adminRoleArn !== undefined || oldAdmin !== undefined) {
    for (const role of ADMIN_ROLES) await updateBackendRoles(http, role, props.adminRoleArn, oldAdmin);
  }
  return { ismPolicyVersion, indicesAttached, templates: Object.keys(templates) };
}
