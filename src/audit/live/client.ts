/**
 * Live mode: read-only list calls against the Kubernetes API, paginated with
 * `limit` and `continue` exactly as kubectl does, one page in memory at a
 * time. Only GET is ever sent. Plain HTTPS with the kubeconfig's credentials:
 * nothing here needs more than a GET, and @kubernetes/client-node would bring
 * a second YAML parser, an HTTP stack and (in 2.x) a Node 22 requirement.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { isRecord, type KubeObject } from '../types.js';
import { LiveError, type ClusterAccess } from './kubeconfig.js';

export interface Resource {
  /** API path prefix: /api/v1 or /apis/GROUP/VERSION */
  prefix: string;
  plural: string;
  kind: string;
  apiVersion: string;
  namespaced: boolean;
}

const R = (apiVersion: string, plural: string, kind: string, namespaced = true): Resource => ({
  prefix: apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`,
  plural,
  kind,
  apiVersion,
  namespaced,
});

/** What live mode lists: every kind a rule reads, controllers before what they own. */
export const RESOURCES: Resource[] = [
  R('v1', 'nodes', 'Node', false),
  R('v1', 'services', 'Service'),
  R('v1', 'endpoints', 'Endpoints'),
  R('discovery.k8s.io/v1', 'endpointslices', 'EndpointSlice'),
  R('networking.k8s.io/v1', 'networkpolicies', 'NetworkPolicy'),
  R('networking.k8s.io/v1', 'ingresses', 'Ingress'),
  R('v1', 'configmaps', 'ConfigMap'),
  R('v1', 'secrets', 'Secret'),
  R('batch/v1', 'cronjobs', 'CronJob'),
  R('apps/v1', 'deployments', 'Deployment'),
  R('apps/v1', 'statefulsets', 'StatefulSet'),
  R('apps/v1', 'daemonsets', 'DaemonSet'),
  R('v1', 'replicationcontrollers', 'ReplicationController'),
  R('v1', 'podtemplates', 'PodTemplate'),
  R('apps/v1', 'replicasets', 'ReplicaSet'),
  R('batch/v1', 'jobs', 'Job'),
  R('v1', 'pods', 'Pod'),
];

const PAGE_LIMIT = 500;
const MAX_PAGE_BYTES = 256 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

interface Page {
  status: number;
  body: string;
}

function get(access: ClusterAccess, path: string): Promise<Page> {
  const url = new URL(access.server.href.replace(/\/$/, '') + path);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'flat6-audit' };
  if (access.authorization) headers['Authorization'] = access.authorization;
  const opts: RequestOptions = { method: 'GET', host, port: url.port || (url.protocol === 'https:' ? 443 : 80), path: url.pathname + url.search, headers, timeout: TIMEOUT_MS };
  if (url.protocol === 'https:') {
    Object.assign(opts, { rejectUnauthorized: !access.insecure, ...(access.ca ? { ca: access.ca } : {}), ...(access.cert ? { cert: access.cert, key: access.key } : {}), ...(access.servername ? { servername: access.servername } : {}) });
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_PAGE_BYTES) {
          req.destroy(new LiveError(`a list page from ${path} is larger than ${MAX_PAGE_BYTES / 1048576} MiB`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new LiveError(`no answer from ${access.server.origin} within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (e) => reject(e instanceof LiveError ? e : new LiveError(`cannot reach ${access.server.origin}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    req.end();
  });
}

/** The API server's Status message, one line, bounded, control characters removed. */
function statusMessage(body: string): string {
  try {
    const s = JSON.parse(body) as unknown;
    if (isRecord(s) && typeof s['message'] === 'string') return s['message'].replace(/\p{Cc}/gu, ' ').slice(0, 300);
  } catch {
    /* not a Status */
  }
  return '';
}

export type ListOutcome = { served: true; objects: number } | { served: false };

/**
 * List every object of one resource (all namespaces, or one), page by page,
 * handing each object (with its kind and apiVersion set, as the API leaves
 * them off list items) to `each`. A resource the server does not serve (404)
 * is reported as not served; any other failure throws LiveError.
 */
export async function listAll(access: ClusterAccess, r: Resource, namespace: string | undefined, each: (obj: KubeObject) => void): Promise<ListOutcome> {
  const base = `${r.prefix}${r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${r.plural}`;
  let token = '';
  let objects = 0;
  for (let page = 0; ; page++) {
    if (page > 1_000_000) throw new LiveError(`${base}: more than a million pages, giving up`);
    const q = new URLSearchParams({ limit: String(PAGE_LIMIT) });
    if (token) q.set('continue', token);
    const res = await get(access, `${base}?${q.toString()}`);
    if (res.status === 404 && page === 0) return { served: false };
    if (res.status !== 200) {
      const why = statusMessage(res.body);
      const scope = r.namespaced ? (namespace ? `in namespace ${namespace}` : 'in all namespaces') : '(cluster-scoped)';
      const hint =
        res.status === 401 ? ': the credentials were refused' : res.status === 403 ? `: forbidden; grant "list" on ${r.plural} ${scope}, or pass --exclude-kind ${r.kind}` : res.status === 410 ? ': the list expired while paging (continue token too old); run the audit again' : '';
      throw new LiveError(`GET ${base}: HTTP ${res.status}${hint}${why ? ` (${why})` : ''}`);
    }
    let list: unknown;
    try {
      list = JSON.parse(res.body);
    } catch {
      throw new LiveError(`GET ${base}: the answer is not JSON`);
    }
    if (!isRecord(list) || !Array.isArray(list['items'])) throw new LiveError(`GET ${base}: the answer is not a list`);
    for (const item of list['items']) {
      if (!isRecord(item)) continue;
      each({ ...item, kind: r.kind, apiVersion: r.apiVersion });
      objects++;
    }
    const meta = list['metadata'];
    token = isRecord(meta) && typeof meta['continue'] === 'string' ? meta['continue'] : '';
    if (!token) return { served: true, objects };
  }
}
