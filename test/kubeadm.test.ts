/**
 * kubeadm has no binary here, so every rendered kubeadm.yaml is parsed back
 * with `yaml` and checked against the strict schema in src/kubeschema (built
 * from the kubeadm v1beta4, kubelet v1beta1 and kube-proxy v1alpha1
 * references): a misspelt or misplaced field is an issue. Then the metal
 * acceptance values, and per-node consistency with the plan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { formatAddress } from '../src/core/ip.js';
import { validateKubeadmFile } from '../src/kubeschema/schema.js';
import type { ClusterPlan } from '../src/plan/plan.js';
import { cleanupTempDirs, cli, planBundled, readTree, renderAllForTools, TEST_SECRETS, tempDir, type ToolTarget } from './helpers.js';

afterAll(cleanupTempDirs);

// Parsed documents are walked by field name; the schema check has already vouched for their shape.
type Doc = Record<string, any>;

interface KubeadmFile {
  stack: string;
  host: string;
  path: string;
  docs: Doc[];
}

const files: KubeadmFile[] = [];
let targets: ToolTarget[] = [];
const plans = new Map<string, ClusterPlan>();

function parseFile(text: string, where: string): Doc[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  if (!Array.isArray(docs)) throw new Error(`${where}: no YAML documents`);
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${where}: ${d.errors.map((e) => e.message).join('; ')}`);
    if (d.warnings.length) throw new Error(`${where}: ${d.warnings.map((e) => e.message).join('; ')}`);
  }
  return docs.map((d) => d.toJS() as Doc);
}

function collect(stack: string, out: string, into: KubeadmFile[]): void {
  const tree = readTree(out);
  for (const [path, f] of tree) {
    if (!/\/kubeadm[^/]*\.ya?ml$/.test(path)) continue;
    const host = /^hosts\/([^/]+)\//.exec(path)![1];
    into.push({ stack, host, path, docs: parseFile(f.content.toString(), `${stack}/${path}`) });
  }
}

beforeAll(async () => {
  targets = await renderAllForTools();
  for (const { stack, out } of targets) {
    if (!plans.has(stack)) plans.set(stack, planBundled(stack));
    collect(stack, out, files);
  }
});

const byKind = (docs: Doc[]): Map<string, Doc> => new Map(docs.map((d) => [d['kind'] as string, d]));
const find = (stack: string, host: string): Map<string, Doc> => byKind(files.find((f) => f.stack === stack && f.host === host)!.docs);
const arg = (list: Array<{ name: string; value: string }> | undefined, name: string): string | undefined => list?.find((a) => a.name === name)?.value;

describe('schema check of every rendered kubeadm file', () => {
  it('has zero issues for every host of every bundled stack (a few hosts of scale)', () => {
    expect(targets.map((t) => t.stack)).toEqual(expect.arrayContaining(['metal', 'multirack', 'scale']));
    for (const t of targets) for (const h of t.hosts) expect(files.filter((f) => f.stack === t.stack && f.host === h).length, `${t.stack}/${h}: one kubeadm file`).toBe(1);
    const issues = files.flatMap((f) => validateKubeadmFile(f.docs).map((i) => `${f.stack}/${f.path}: ${i.path}: ${i.message}`));
    expect(issues).toEqual([]);
  });

  it('also without CA hashes (the join files then skip CA pinning), secrets from the environment', async () => {
    const out = join(tempDir('kubeadm-env'), 'out');
    const env = { FLAT6_BOOTSTRAP_TOKEN: 'zyxwvu.9876543210zyxwvu', FLAT6_CERTIFICATE_KEY: 'f'.repeat(64) };
    const r = await cli(['render', '--stack', 'multirack', '--out', out], { env });
    expect(r.code, r.stderr).toBe(0);
    const unpinned: KubeadmFile[] = [];
    collect('multirack', out, unpinned);
    expect(unpinned.length).toBe(14);
    for (const f of unpinned) {
      expect(validateKubeadmFile(f.docs), f.path).toEqual([]);
      const join = byKind(f.docs).get('JoinConfiguration');
      if (join) {
        expect(join['discovery']['bootstrapToken']['unsafeSkipCAVerification'], f.path).toBe(true);
        expect(join['discovery']['bootstrapToken']['caCertHashes'], f.path).toBeUndefined();
        expect(join['discovery']['bootstrapToken']['token']).toBe(env.FLAT6_BOOTSTRAP_TOKEN);
      }
    }
  });

  it('catches a misspelt and a misplaced field in a rendered file (control)', () => {
    const cp1 = files.find((f) => f.stack === 'metal' && f.host === 'cp1')!;
    const misspelt = structuredClone(cp1.docs);
    const cluster = misspelt.find((d) => d['kind'] === 'ClusterConfiguration')!;
    cluster['networking']['podSubnett'] = cluster['networking']['podSubnet'];
    delete cluster['networking']['podSubnet'];
    expect(validateKubeadmFile(misspelt).map((i) => i.path).join(' ')).toMatch(/podSubnett/);
    const misplaced = structuredClone(cp1.docs);
    misplaced.find((d) => d['kind'] === 'InitConfiguration')!['controlPlaneEndpoint'] = '[2001:db8:1::100]:6443';
    expect(validateKubeadmFile(misplaced).length).toBeGreaterThan(0);
  });
});

describe('acceptance: the metal stack', () => {
  it('cp1 initialises the cluster', () => {
    const cp1 = find('metal', 'cp1');
    expect([...cp1.keys()]).toEqual(['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration', 'KubeProxyConfiguration']);
    const cluster = cp1.get('ClusterConfiguration')!;
    expect(cluster['controlPlaneEndpoint']).toBe('[2001:db8:1::100]:6443');
    expect(cluster['networking']['podSubnet']).toBe('2001:db8:42::/48');
    expect(cluster['networking']['serviceSubnet']).toBe('2001:db8:43::/112');
    expect(cluster['apiServer']['certSANs']).toEqual(expect.arrayContaining(['2001:db8:1::100', '2001:db8:1::10', '2001:db8:1::20', '2001:db8:1::30']));
    expect(arg(cluster['controllerManager']['extraArgs'], 'allocate-node-cidrs')).toBe('false');
    const init = cp1.get('InitConfiguration')!;
    expect(init['localAPIEndpoint']['advertiseAddress']).toBe('2001:db8:1::10');
    expect(arg(init['nodeRegistration']['kubeletExtraArgs'], 'node-ip')).toBe('2001:db8:1::10');
    expect(init['bootstrapTokens'][0]['token']).toBe(TEST_SECRETS.bootstrapToken);
    expect(init['certificateKey']).toBe(TEST_SECRETS.certificateKey);
    expect(cp1.get('KubeletConfiguration')!['clusterDNS']).toEqual(['2001:db8:43::a']);
    expect(cp1.get('KubeProxyConfiguration')!['bindAddress']).toBe('::');
  });

  it.each([['cp2', '2001:db8:1::20'], ['cp3', '2001:db8:1::30']])('%s joins as a control plane', (host, address) => {
    const docs = find('metal', host);
    expect([...docs.keys()]).toEqual(['JoinConfiguration']);
    const join = docs.get('JoinConfiguration')!;
    expect(join['discovery']['bootstrapToken']['apiServerEndpoint']).toBe('[2001:db8:1::100]:6443');
    expect(join['controlPlane']['localAPIEndpoint']['advertiseAddress']).toBe(address);
    expect(join['controlPlane']['certificateKey']).toBe(TEST_SECRETS.certificateKey);
    expect(arg(join['nodeRegistration']['kubeletExtraArgs'], 'node-ip')).toBe(address);
  });

  it.each([['worker1', '2001:db8:1::40'], ['worker2', '2001:db8:1::41'], ['worker3', '2001:db8:1::42']])('%s joins through [2001:db8:1::100]:6443', (host, address) => {
    const join = find('metal', host).get('JoinConfiguration')!;
    expect(join['discovery']['bootstrapToken']['apiServerEndpoint']).toBe('[2001:db8:1::100]:6443');
    expect(join['discovery']['bootstrapToken']['caCertHashes']).toEqual([TEST_SECRETS.caCertHash]);
    expect(join['controlPlane']).toBeUndefined();
    expect(arg(join['nodeRegistration']['kubeletExtraArgs'], 'node-ip')).toBe(address);
    expect(JSON.stringify(join)).not.toContain(TEST_SECRETS.certificateKey);
  });
});

describe('every file agrees with the plan', () => {
  it('exactly one init per cluster, on the first control-plane node; every node named and addressed as planned', () => {
    for (const [stack, plan] of plans) {
      const ours = files.filter((f) => f.stack === stack);
      const inits = ours.filter((f) => f.docs.some((d) => d['kind'] === 'InitConfiguration')).map((f) => f.host);
      expect(inits, stack).toEqual(ours.some((f) => f.host === plan.controlPlanes[0].name) ? [plan.controlPlanes[0].name] : []);
      for (const f of ours) {
        const node = plan.findNode(f.host)!;
        const docs = byKind(f.docs);
        const reg = (docs.get('InitConfiguration') ?? docs.get('JoinConfiguration'))!['nodeRegistration'];
        expect(reg['name'], f.path).toBe(node.name);
        expect(arg(reg['kubeletExtraArgs'], 'node-ip'), f.path).toBe(formatAddress(node.address));
        const join = docs.get('JoinConfiguration');
        if (join) {
          expect(join['discovery']['bootstrapToken']['apiServerEndpoint'], f.path).toBe(plan.controlPlaneEndpoint);
          expect(join['controlPlane'] !== undefined, f.path).toBe(node.role === 'control-plane');
          if (join['controlPlane']) expect(join['controlPlane']['localAPIEndpoint']['bindPort'], f.path).toBe(plan.apiServerPort);
        }
        const cluster = docs.get('ClusterConfiguration');
        if (cluster) {
          expect(cluster['controlPlaneEndpoint']).toBe(plan.controlPlaneEndpoint);
          expect(cluster['apiServer']['certSANs']).toEqual(expect.arrayContaining([formatAddress(plan.vip), ...plan.controlPlanes.map((n) => formatAddress(n.address))]));
          expect(docs.get('KubeletConfiguration')!['clusterDNS']).toEqual([formatAddress(plan.dnsServiceIP)]);
        }
      }
    }
  });
});

describe('controlPlane.extraCertSANs', () => {
  it('adds DNS names to the API server certificate after the VIP and control-plane addresses', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const { stackPath, testSecretsFile } = await import('./helpers.js');
    const text = readFileSync(stackPath('metal'), 'utf8');
    const stack = join(tempDir('sans'), 'Pulumi.sans.yaml');
    const edited = text.replace(/(\n {4}controlPlane:\n)/, '$1      extraCertSANs: [api.metal.example.com]\n');
    expect(edited).not.toBe(text);
    writeFileSync(stack, edited);
    const out = join(tempDir('sans'), 'out');
    const r = await cli(['render', '--stack', stack, '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(0);
    const docs = byKind(parseAllDocuments(readFileSync(join(out, 'hosts', 'cp1', 'etc', 'flat6', 'kubeadm.yaml'), 'utf8')).map((d) => d.toJS() as Doc));
    expect(docs.get('ClusterConfiguration')!['apiServer']['certSANs']).toEqual(['2001:db8:1::100', '2001:db8:1::10', '2001:db8:1::20', '2001:db8:1::30', 'api.metal.example.com']);
    const bad = join(tempDir('sans'), 'Pulumi.bad.yaml');
    writeFileSync(bad, text.replace(/(\n {4}controlPlane:\n)/, '$1      extraCertSANs: ["Api Example"]\n'));
    const v = await cli(['validate', '--stack', bad]);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/error SCHEMA_VALUE: "Api Example" is not a lower-case DNS name/);
  });
});
