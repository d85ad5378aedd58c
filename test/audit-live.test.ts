/**
 * Live mode against a real HTTPS server on loopback ([::1]) that answers the
 * Kubernetes list endpoints from recorded responses (test/fixtures/audit/live),
 * page by page with continue tokens, and checks credentials: a client
 * certificate signed by a CA the test makes with openssl, a bearer token, or
 * a token from an exec credential plugin (a real process). Every request is
 * recorded: live mode must only ever GET, with limit and the tokens it was given.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cleanupTempDirs, tempDir, tool } from './helpers.js';
import { AUDIT_FIXTURES, auditJson, flat6 } from './fixtures/audit/harness.js';

const LIVE = join(AUDIT_FIXTURES, 'live');
const TOKEN = 'test-token-5f0c2a';
const PAGE = 2;

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  who: string;
}

let dir: string;
let server: Server;
let port: number;
const seen: Seen[] = [];
/** plurals the server answers 403 for */
const forbidden = new Set<string>();
/** answer 410 Gone to any continue token */
let expireTokens = false;

function openssl(...args: string[]): void {
  execFileSync(tool('openssl'), args, { cwd: dir, stdio: 'pipe' });
}

function pki(): void {
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:::1,IP:127.0.0.1,DNS:kubernetes\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=flat6-test-ca');
  openssl('req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '1', '-subj', '/CN=someone-else');
  for (const [name, cn] of [['server', 'kube-apiserver'], ['client', 'auditor']]) {
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  }
}

/** The API server: GET list endpoints only, typed lists paged PAGE items at a time. */
function answer(method: string, url: URL, who: string): { status: number; body: unknown } {
  if (method !== 'GET') return { status: 405, body: { kind: 'Status', message: 'read-only test server' } };
  if (!who) return { status: 401, body: { kind: 'Status', message: 'Unauthorized' } };
  const m = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([a-z]+)$/.exec(url.pathname);
  if (!m) return { status: 404, body: { kind: 'Status', message: 'the server could not find the requested resource' } };
  const [, ns, plural] = m as unknown as [string, string | undefined, string];
  const file = join(LIVE, `${plural}.json`);
  if (!existsSync(file)) return { status: 404, body: { kind: 'Status', message: 'the server could not find the requested resource' } };
  if (forbidden.has(plural)) return { status: 403, body: { kind: 'Status', message: `${plural} is forbidden: User "${who}" cannot list resource "${plural}"` } };
  const list = JSON.parse(readFileSync(file, 'utf8')) as { items: Array<{ metadata: { namespace?: string } }>; metadata: Record<string, unknown> };
  const items = ns ? list.items.filter((i) => i.metadata.namespace === ns) : list.items;
  const token = url.searchParams.get('continue');
  if (token && expireTokens) return { status: 410, body: { kind: 'Status', reason: 'Expired', message: 'The provided continue parameter is too old' } };
  const start = token ? (JSON.parse(Buffer.from(token, 'base64url').toString()) as { plural: string; offset: number }).offset : 0;
  const limit = Math.min(Number(url.searchParams.get('limit') ?? items.length), PAGE);
  const page = items.slice(start, start + limit);
  const more = start + limit < items.length;
  const meta: Record<string, unknown> = { resourceVersion: list.metadata['resourceVersion'] };
  if (more) {
    meta['continue'] = Buffer.from(JSON.stringify({ plural, offset: start + limit })).toString('base64url');
    meta['remainingItemCount'] = items.length - start - limit;
  }
  return { status: 200, body: { ...list, metadata: meta, items: page } };
}

beforeAll(async () => {
  dir = tempDir('live');
  pki();
  server = createServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')), ca: readFileSync(join(dir, 'ca.crt')), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const sock = req.socket as TLSSocket;
    const cert = sock.authorized ? sock.getPeerCertificate() : undefined;
    const cn: string | string[] | undefined = cert?.subject.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    const who = name ? `cert:${name}` : req.headers.authorization === `Bearer ${TOKEN}` ? 'token' : '';
    seen.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, who });
    const { status, body } = answer(req.method ?? '', url, who);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  cleanupTempDirs();
});

beforeEach(() => {
  seen.length = 0;
  forbidden.clear();
  expireTokens = false;
});

type User = Record<string, unknown>;

function kubeconfig(name: string, user: User, cluster: Record<string, unknown> = {}): string {
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'lab',
    clusters: [{ name: 'lab', cluster: { server: `https://[::1]:${port}`, 'certificate-authority': 'ca.crt', ...cluster } }],
    users: [{ name: 'me', user }],
    contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'me' } }],
  };
  const p = join(dir, name);
  writeFileSync(p, stringify(cfg));
  return p;
}

const certUser = { 'client-certificate': 'client.crt', 'client-key': 'client.key' };

describe('live mode', () => {
  it('lists every resource page by page with GET only, and audits what it gets (client certificate)', async () => {
    const r = await auditJson(['--kubeconfig', kubeconfig('cert.yaml', certUser)]);
    expect(r.code).toBe(1);
    const got = r.report.findings.map((f) => `${f.kind} ${f.namespace ?? '-'}/${f.name} ${f.code} ${f.path}`);
    expect(got.sort()).toEqual(
      [
        'ConfigMap kube-system/coredns COREDNS_FORWARD_IPV4 data.Corefile',
        'ConfigMap shop/web-nginx NGINX_LISTEN_IPV4_ONLY data["default.conf"]',
        'Deployment shop/checkout IPV4_WILDCARD_BIND spec.template.spec.containers[0].args[1]',
        'EndpointSlice shop/checkout-4xkq2 ENDPOINT_SLICE_IPV4 addressType',
        'NetworkPolicy shop/allow-office NETWORK_POLICY_IPV4_CIDR spec.ingress[0].from[0].ipBlock.cidr',
        'Node -/worker1 NODE_IPV4_INTERNAL_IP status.addresses[0].address',
        'Node -/worker1 NODE_IPV4_POD_CIDR spec.podCIDRs[0]',
        'Pod shop/checkout-7f9c8d-b2 IPV4_WILDCARD_BIND spec.containers[1].args[0]',
        'Secret shop/db IPV4_LITERAL_ADDRESS data.url',
        'Service shop/checkout SERVICE_IPV4_CLUSTER_IP spec.clusterIPs[0]',
        'Service shop/checkout SERVICE_IPV4_FAMILY spec.ipFamilies[0]',
        'Service shop/checkout SERVICE_REQUIRE_DUAL_STACK spec.ipFamilyPolicy',
        'Service shop/search SERVICE_PREFER_DUAL_STACK spec.ipFamilyPolicy',
      ].sort(),
    );
    expect(new Set(r.report.findings.map((f) => f.source))).toEqual(new Set(['cluster']));
    expect(r.report.summary.objects).toBe(3 + 5 + 2 + 1 + 4 + 1 + 1 + 1 + 4);
    // the Secret's value is not in the report
    expect(r.stdout).not.toContain('s3cr3t');
    expect(r.stdout).not.toContain('192.0.2.77');
    // only GETs, all authenticated by the client certificate, all with limit=500
    expect(seen.length).toBeGreaterThan(17);
    for (const s of seen) {
      expect(s.method).toBe('GET');
      expect(s.who).toBe('cert:auditor');
      expect(s.query.get('limit')).toBe('500');
    }
    // pagination: services (5 items, 2 a page) took three requests, each continuing where the last ended
    const svc = seen.filter((s) => s.path === '/api/v1/services');
    expect(svc.map((s) => s.query.get('continue') ?? '')).toEqual(['', expect.any(String), expect.any(String)]);
    expect(new Set(svc.map((s) => s.query.get('continue'))).size).toBe(3);
    // a resource the server does not serve is noted, not an error
    expect(r.stderr).toMatch(/note: 1 resources this API server does not serve, not audited: \/apis\/networking\.k8s\.io\/v1\/ingresses/);
  });

  it('--namespace lists that namespace only, and no Nodes (bearer token)', async () => {
    const r = await auditJson(['--kubeconfig', kubeconfig('token.yaml', { token: TOKEN }), '--namespace', 'kube-system']);
    expect(r.report.findings.map((f) => `${f.kind} ${f.namespace}/${f.name}`)).toEqual(['ConfigMap kube-system/coredns']);
    expect(seen.every((s) => s.who === 'token')).toBe(true);
    expect(seen.every((s) => s.path.includes('/namespaces/kube-system/'))).toBe(true);
    expect(seen.some((s) => s.path.endsWith('/nodes'))).toBe(false);
    expect(r.stderr).toMatch(/cluster-scoped resources not listed \(--namespace\): nodes/);
    expect(r.code).toBe(1);
  });

  it('an exec credential plugin supplies the token (a real process, told it is not interactive)', async () => {
    const plugin = join(dir, 'plugin.mjs');
    writeFileSync(
      plugin,
      `const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
if (info.kind !== 'ExecCredential' || info.spec.interactive !== false || process.env.FLAT6_TEST_PLUGIN !== 'yes') process.exit(3);
process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential', status: { token: ${JSON.stringify(TOKEN)} } }));
`,
    );
    const user = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [plugin], env: [{ name: 'FLAT6_TEST_PLUGIN', value: 'yes' }], interactiveMode: 'Never' } };
    const r = await auditJson(['--kubeconfig', kubeconfig('exec.yaml', user), '-n', 'shop']);
    expect(r.code).toBe(1);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.who === 'token')).toBe(true);
    const failing = { exec: { ...user.exec, env: [] } };
    const f = await flat6(['audit', '--kubeconfig', kubeconfig('exec-bad.yaml', failing)]);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/exec credential plugin .* failed \(exit 3\)/);
  });

  it('a server certificate the kubeconfig does not trust is refused', async () => {
    const r = await flat6(['audit', '--kubeconfig', kubeconfig('other-ca.yaml', certUser, { 'certificate-authority': 'other-ca.crt' })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: cluster: cannot reach https:\/\/\[::1\]:\d+: /);
    expect(seen).toEqual([]);
  });

  it('refused credentials and forbidden lists are unusable input; --exclude-kind skips a forbidden kind', async () => {
    const anon = await flat6(['audit', '--kubeconfig', kubeconfig('anon.yaml', {})]);
    expect(anon.code).toBe(2);
    expect(anon.stderr).toMatch(/HTTP 401: the credentials were refused/);
    forbidden.add('secrets');
    const r = await flat6(['audit', '--kubeconfig', kubeconfig('cert2.yaml', certUser)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/GET \/api\/v1\/secrets: HTTP 403: forbidden; grant "list" on secrets in all namespaces, or pass --exclude-kind Secret/);
    seen.length = 0;
    const x = await auditJson(['--kubeconfig', kubeconfig('cert3.yaml', certUser), '--exclude-kind', 'Secret']);
    expect(x.code).toBe(1);
    expect(seen.some((s) => s.path.endsWith('/secrets'))).toBe(false);
    expect(x.report.findings.some((f) => f.kind === 'Secret')).toBe(false);
  });

  it('a continue token that expired is reported, not skipped', async () => {
    expireTokens = true;
    const r = await flat6(['audit', '--kubeconfig', kubeconfig('cert4.yaml', certUser)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HTTP 410: the list expired while paging/);
  });

  it('kubeconfig problems are clear errors', async () => {
    const noCtx = await flat6(['audit', '--kubeconfig', kubeconfig('c5.yaml', certUser), '--context', 'nope']);
    expect(noCtx.stderr).toMatch(/has no context "nope"/);
    const legacy = await flat6(['audit', '--kubeconfig', kubeconfig('c6.yaml', { 'auth-provider': { name: 'gcp' } })]);
    expect(legacy.stderr).toMatch(/auth-provider, which kubectl removed in 1\.26/);
    const missing = await flat6(['audit', '--kubeconfig', join(dir, 'nope.yaml')]);
    expect(missing.stderr).toMatch(/cannot read the kubeconfig/);
    for (const r of [noCtx, legacy, missing]) expect(r.code).toBe(2);
    expect(seen).toEqual([]);
  });
});
