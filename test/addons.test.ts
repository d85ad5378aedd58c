/**
 * The add-ons: the flat6:addons section (defaults, located errors), the
 * manifests as the plan makes them (IPv6 only, kube-dns at the 10th service
 * address, the Corefile), a NetworkPolicy table test, the conformance
 * script's address arithmetic and Service check run with bash and BusyBox
 * awk, and the acceptance of `flat6 render --stack metal`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Flat6Error } from '../src/core/diagnostics.js';
import { addonFiles, addonObjects, type K8sObject } from '../src/k8s/addons.js';
import { CHECK_SCRIPT } from '../src/k8s/manifests/check-script.js';
import { cronJobName, MAX_CRONJOB_NAME } from '../src/k8s/manifests/etcd-backup.js';
import { planAddons, type AddonsPlan } from '../src/k8s/plan.js';
import { renderAddons } from '../src/k8s/render.js';
import { createPlan } from '../src/plan/plan.js';
import { parseStack } from '../src/spec/load.js';
import { cleanupTempDirs, renderStack, stackText } from './helpers.js';

afterAll(cleanupTempDirs);

const METAL = stackText('metal');
/** The metal stack with its flat6:addons section replaced. */
function metalWith(addons: string): string {
  const i = METAL.indexOf('  # In-cluster add-ons');
  if (i < 0) throw new Error('metal stack lost its add-on section');
  return `${METAL.slice(0, i)}  flat6:addons:\n${addons.replace(/^/gm, '    ')}\n`;
}
function plan(text: string, file = 'Pulumi.metal.yaml'): AddonsPlan {
  const stack = parseStack(file, text);
  const p = planAddons(stack, createPlan(stack));
  if (!p) throw new Error('no add-ons');
  return p;
}
function failure(f: () => unknown): Flat6Error {
  try {
    f();
  } catch (e) {
    if (e instanceof Flat6Error) return e;
    throw e;
  }
  throw new Error('expected a Flat6Error');
}
const kinds = (objs: K8sObject[]) => objs.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`);

describe('flat6:addons section', () => {
  it('an empty section turns on every add-on with its defaults', () => {
    const p = plan(metalWith('{}'));
    expect(p.config.dns).toEqual({ enabled: true, replicas: 2, cacheSeconds: 30 });
    expect(p.config.etcdBackup).toEqual({ enabled: true, schedule: '17 */6 * * *', keep: 8, directory: '/var/lib/etcd-backup' });
    expect(p.config.networkPolicy).toEqual({ namespaces: [], allowNodeRange: false });
    expect(p.config.kubeconfig.source).toBe('secret');
    expect(p.images.coredns).toMatch(/^registry\.k8s\.io\/coredns\/coredns:v1\.12\.1@sha256:[0-9a-f]{64}$/);
    for (const image of Object.values(p.images)) expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('a stack without the section renders no add-ons', () => {
    const stack = parseStack('Pulumi.metal.yaml', metalWith('{}').replace(/ {2}flat6:addons:[\s\S]*$/, ''));
    expect(renderAddons(stack, createPlan(stack))).toEqual([]);
  });

  it('a misspelt field is a located schema error (exit 2) with a did-you-mean', () => {
    const e = failure(() => plan(metalWith('dns: { replica: 2 }')));
    expect(e.exitCode).toBe(2);
    expect(e.diagnostics[0]).toMatchObject({ code: 'SCHEMA_UNKNOWN_FIELD', section: 'flat6:addons', path: 'dns.replica', fix: 'did you mean "replicas"?' });
    expect(e.diagnostics[0].location?.line).toBe(METAL.slice(0, METAL.indexOf('  # In-cluster add-ons')).split('\n').length + 1);
  });

  it.each([
    ['an image without a digest', 'images: { coredns: "registry.k8s.io/coredns/coredns:v1.12.1" }', 'images.coredns'],
    ['a schedule with shell syntax', 'etcdBackup: { schedule: "* * * * *; rm -rf /" }', 'etcdBackup.schedule'],
    ['a backup directory with ..', 'etcdBackup: { directory: "/var/lib/../etc" }', 'etcdBackup.directory'],
    ['a namespace that is no DNS label', 'networkPolicy: { namespaces: ["Kube_System"] }', 'networkPolicy.namespaces.0'],
    ['a registry with a quote', 'images: { registry: "mirror\\"x" }', 'images.registry'],
  ])('%s is refused', (_what, yaml, path) => {
    const e = failure(() => plan(metalWith(yaml)));
    expect(e.exitCode).toBe(2);
    expect(e.diagnostics.map((d) => d.path)).toEqual([path]);
  });

  it('a NAT64 prefix must be an RFC 6052 length; on AWS it is refused (the VPC resolver does DNS64)', () => {
    const bad = failure(() => plan(metalWith('dns: { nat64Prefix: "64:ff9b::/100" }')));
    expect(bad.exitCode).toBe(1);
    expect(bad.diagnostics[0]).toMatchObject({ code: 'ADDONS_NAT64', path: 'dns.nat64Prefix' });
    expect(bad.diagnostics[0].location?.line).toBeGreaterThan(30);
    expect(failure(() => plan(metalWith('dns: { nat64Prefix: "192.0.2.0/24" }'))).diagnostics[0].code).toBe('ADDONS_NAT64');
    const aws = stackText('aws-lab').replace('config:\n', 'config:\n  flat6:addons:\n    dns: { nat64Prefix: "64:ff9b::/96" }\n');
    const e = failure(() => plan(aws, 'Pulumi.aws-lab.yaml'));
    expect(e.diagnostics.map((d) => d.code)).toEqual(['ADDONS_NAT64', 'ADDONS_CLOUD', 'ADDONS_CLOUD']);
  });
});

describe('the rack layout (network.racks)', () => {
  it('refuses allowNodeRange: the node range holds every pod block there', () => {
    const scale = stackText('scale');
    const withAddons = (allow: boolean): string => `${scale}  flat6:addons:\n    networkPolicy: { allowNodeRange: ${allow} }\n`;
    const e = failure(() => plan(withAddons(true), 'Pulumi.scale.yaml'));
    expect(e.exitCode).toBe(1);
    expect(e.diagnostics[0]).toMatchObject({ code: 'ADDONS_RACK_LAYOUT', path: 'networkPolicy.allowNodeRange' });
    expect(plan(withAddons(false), 'Pulumi.scale.yaml').rackPodLength).toBe(57);
  });
});

describe('manifests', () => {
  const metal = plan(METAL);
  const objs = addonObjects(metal);
  const text = addonFiles(metal).map((f) => JSON.stringify(f.objects)).join('\n');

  it('are the expected objects, in apply order', () => {
    expect(addonFiles(metal).map((f) => f.name)).toEqual(['00-namespace.yaml', '10-coredns.yaml', '20-network-policies.yaml', '30-etcd-backup.yaml', '40-conformance.yaml']);
    expect(kinds(objs)).toEqual([
      'Namespace/flat6-system',
      'ServiceAccount/kube-system/coredns',
      'ClusterRole/system:coredns',
      'ClusterRoleBinding/system:coredns',
      'ConfigMap/kube-system/coredns',
      'Deployment/kube-system/coredns',
      'Service/kube-system/kube-dns',
      'NetworkPolicy/default/flat6-default-deny',
      'NetworkPolicy/default/flat6-allow-dns',
      'NetworkPolicy/default/flat6-allow-node-range',
      'CronJob/flat6-system/etcd-backup-cp1',
      'CronJob/flat6-system/etcd-backup-cp2',
      'CronJob/flat6-system/etcd-backup-cp3',
      'ServiceAccount/flat6-system/flat6-conformance',
      'ClusterRole/flat6:conformance',
      'ClusterRoleBinding/flat6:conformance',
      'Role/flat6-system/flat6-conformance',
      'RoleBinding/flat6-system/flat6-conformance',
      'ConfigMap/flat6-system/flat6-conformance',
      'NetworkPolicy/flat6-system/flat6-echo-ingress',
      'Service/flat6-system/flat6-echo',
      'DaemonSet/flat6-system/flat6-echo',
      'Job/flat6-system/flat6-conformance',
    ]);
  });

  it('every Service is IPv6 single-stack; kube-dns is the 10th service address', () => {
    const services = objs.filter((o) => o.kind === 'Service') as Array<K8sObject & { spec: Record<string, unknown> }>;
    expect(services).toHaveLength(2);
    for (const s of services) expect(s.spec).toMatchObject({ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] });
    expect(services[0].spec).toMatchObject({ clusterIP: '2001:db8:43::a', clusterIPs: ['2001:db8:43::a'] });
  });

  it('hold no IPv4 address and bind no wildcard', () => {
    expect(text).not.toMatch(/\b\d{1,3}(\.\d{1,3}){3}\b/);
    expect(text).not.toContain('0.0.0.0');
    expect(text).not.toMatch(/"(:|\[::\]:)\d+"/);
  });

  it('the Corefile binds the pod address and forwards to the stack resolvers over IPv6; dns64 only with a NAT64 prefix', () => {
    const corefile = (p: AddonsPlan) => (addonObjects(p).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'coredns') as unknown as { data: { Corefile: string } }).data.Corefile;
    const c = corefile(metal);
    expect(c).toContain('    bind {$POD_IP}\n');
    expect(c).toContain('    forward . [2001:4860:4860::8888]:53 [2606:4700:4700::1111]:53 {');
    expect(c).toContain('    kubernetes cluster.local ip6.arpa {');
    expect(c).not.toContain('dns64');
    const n = corefile(plan(metalWith('dns: { nat64Prefix: "64:FF9B:0::/96" }')));
    expect(n).toContain('    dns64 {\n        prefix 64:ff9b::/96\n    }\n');
  });

  it('etcd backups: one CronJob per control-plane node, pinned to it, etcdctl against https://[its address]:2379', () => {
    const crons = objs.filter((o) => o.kind === 'CronJob') as any[];
    expect(crons.map((c) => c.spec.jobTemplate.spec.template.spec.nodeSelector['kubernetes.io/hostname'])).toEqual(['cp1', 'cp2', 'cp3']);
    expect(crons.map((c) => c.spec.jobTemplate.spec.template.spec.initContainers[0].command[1])).toEqual([
      '--endpoints=https://[2001:db8:1::10]:2379',
      '--endpoints=https://[2001:db8:1::20]:2379',
      '--endpoints=https://[2001:db8:1::30]:2379',
    ]);
    const pod = crons[0].spec.jobTemplate.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.volumes.filter((v: any) => v.hostPath.type === 'File').map((v: any) => v.hostPath.path)).toEqual([
      '/etc/kubernetes/pki/etcd/ca.crt',
      '/etc/kubernetes/pki/etcd/healthcheck-client.crt',
      '/etc/kubernetes/pki/etcd/healthcheck-client.key',
    ]);
  });

  it('CronJob names fit in 52 characters and stay distinct', () => {
    const long = 'n'.repeat(63);
    expect(cronJobName('cp1')).toBe('etcd-backup-cp1');
    expect(cronJobName(long).length).toBeLessThanOrEqual(MAX_CRONJOB_NAME);
    expect(cronJobName(long)).not.toBe(cronJobName(`${'n'.repeat(62)}m`));
    expect(cronJobName(long)).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('are deterministic and do not depend on the key order of the stack file', () => {
    const reordered = metalWith('conformance: { pairsPerRackPair: 2 }\netcdBackup: { keep: 8, schedule: "17 */6 * * *" }\nnetworkPolicy: { allowNodeRange: true, namespaces: [default] }\ndns: { replicas: 2 }\nkubeconfig: { source: secret }');
    const a = renderAddons(parseStack('Pulumi.metal.yaml', METAL), createPlan(parseStack('Pulumi.metal.yaml', METAL)));
    const b = renderAddons(parseStack('Pulumi.metal.yaml', reordered), createPlan(parseStack('Pulumi.metal.yaml', reordered)));
    expect(b).toEqual(a);
  });
});

/**
 * NetworkPolicy semantics, enough for the baseline: a pod is isolated for a
 * direction once a policy selecting it names that direction; then a packet
 * passes only if some rule of some selecting policy allows it.
 */
interface Peer {
  namespace: string;
  labels: Record<string, string>;
  address: string;
  fromNode?: boolean;
}
function matches(sel: any, labels: Record<string, string>): boolean {
  return Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}
function inBlock(address: string, cidr: string): boolean {
  // Only the node range /64 is used as a block: compare its first four groups.
  return cidr === '2001:db8:1::/64' && address.startsWith('2001:db8:1::');
}
function allowed(policies: any[], pod: Peer, dir: 'Ingress' | 'Egress', peer: Peer, protocol: string, port: number): boolean {
  const selecting = policies.filter((p) => p.metadata.namespace === pod.namespace && matches(p.spec.podSelector, pod.labels));
  const isolating = selecting.filter((p) => p.spec.policyTypes.includes(dir));
  if (isolating.length === 0) return true;
  return isolating.some((p) =>
    (p.spec[dir === 'Ingress' ? 'ingress' : 'egress'] ?? []).some((rule: any) => {
      const peers = rule[dir === 'Ingress' ? 'from' : 'to'];
      const peerOk =
        !peers ||
        peers.some((x: any) =>
          x.ipBlock
            ? inBlock(peer.address, x.ipBlock.cidr)
            : (x.namespaceSelector ? matches(x.namespaceSelector, { 'kubernetes.io/metadata.name': peer.namespace }) : peer.namespace === pod.namespace) &&
              (x.podSelector ? matches(x.podSelector, peer.labels) : true) &&
              !peer.fromNode,
        );
      const portOk = !rule.ports || rule.ports.some((q: any) => q.protocol === protocol && q.port === port);
      return peerOk && portOk;
    }),
  );
}

describe('NetworkPolicy baseline: exactly DNS, and the node range only when asked', () => {
  const app: Peer = { namespace: 'default', labels: { app: 'web' }, address: '2001:db8:42:40::5' };
  const coredns: Peer = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, address: '2001:db8:42:10::3' };
  const other: Peer = { namespace: 'default', labels: { app: 'db' }, address: '2001:db8:42:41::7' };
  const foreign: Peer = { namespace: 'shop', labels: { app: 'web' }, address: '2001:db8:42:42::9' };
  const fakeDns: Peer = { namespace: 'shop', labels: { 'k8s-app': 'kube-dns' }, address: '2001:db8:42:42::53' };
  const node: Peer = { namespace: '', labels: {}, address: '2001:db8:1::40', fromNode: true };
  const internet: Peer = { namespace: '', labels: {}, address: '2606:4700:4700::1111', fromNode: true };
  const withNodes = addonObjects(plan(METAL)).filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'default');
  const without = addonObjects(plan(metalWith('networkPolicy: { namespaces: [default] }'))).filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'default');

  it.each([
    // direction, peer, protocol, port, allowed with allowNodeRange, allowed without
    ['Egress', 'coredns', 'UDP', 53, true, true],
    ['Egress', 'coredns', 'TCP', 53, true, true],
    ['Egress', 'coredns', 'TCP', 9153, false, false],
    ['Egress', 'coredns', 'UDP', 5353, false, false],
    ['Egress', 'fakeDns', 'UDP', 53, false, false],
    ['Egress', 'other', 'TCP', 5432, false, false],
    ['Egress', 'foreign', 'TCP', 443, false, false],
    ['Egress', 'internet', 'TCP', 443, false, false],
    ['Egress', 'node', 'TCP', 10250, false, false],
    ['Ingress', 'node', 'TCP', 8080, true, false],
    ['Ingress', 'node', 'UDP', 53, true, false],
    ['Ingress', 'other', 'TCP', 8080, false, false],
    ['Ingress', 'foreign', 'TCP', 8080, false, false],
    ['Ingress', 'coredns', 'TCP', 8080, false, false],
    ['Ingress', 'internet', 'TCP', 443, false, false],
  ] as const)('%s %s %s/%i: %s with the node range, %s without', (dir, peerName, protocol, port, withRange, withoutRange) => {
    const peer = { coredns, fakeDns, other, foreign, node, internet }[peerName];
    expect(allowed(withNodes, app, dir, peer, protocol, port)).toBe(withRange);
    expect(allowed(without, app, dir, peer, protocol, port)).toBe(withoutRange);
  });

  it('a namespace not selected is left alone; every policy block is IPv6', () => {
    expect(allowed(withNodes, foreign, 'Egress', internet, 'TCP', 443)).toBe(true);
    const blocks = JSON.stringify(withNodes).match(/"cidr":"[^"]+"/g);
    expect(blocks).toEqual(['"cidr":"2001:db8:1::/64"']);
    expect(without.map((p) => p.metadata.name)).toEqual(['flat6-default-deny', 'flat6-allow-dns']);
  });
});

describe('conformance script (bash, with the host awk and with BusyBox awk)', () => {
  const dir = mkdtempSync(join(tmpdir(), `flat6-addons-${process.pid}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'check.sh');
  writeFileSync(script, CHECK_SCRIPT);
  const bb = join(dir, 'bb');
  const haveBusybox = spawnSync('sh', ['-c', 'command -v busybox']).status === 0;
  if (haveBusybox) {
    spawnSync('mkdir', [bb]);
    spawnSync('ln', ['-s', spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim(), join(bb, 'awk')]);
  }
  const awks = haveBusybox ? ['host', 'busybox'] : ['host'];
  const sh = (awk: string, args: string[], input?: string) =>
    spawnSync('bash', [script, ...args], {
      encoding: 'utf8',
      input,
      env: { PATH: awk === 'busybox' ? `${bb}:${process.env['PATH']}` : process.env['PATH'], POD_RANGE: '2001:db8:4200::/48', POD_RANGE_LENGTH: '48', RACK_POD_LENGTH: '58' },
    });

  it('parses as bash', () => {
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
  });

  it('BusyBox is there to run the awk as the image does (scripts/install-test-deps.sh)', () => {
    expect(haveBusybox).toBe(true);
  });

  it.each(awks)('%s awk: the rack of a pod address is its bits between the pod range and the rack block', (awk) => {
    // multirack: pods 2001:db8:4200::/48, rack blocks /58 (rack r = 2001:db8:4200:(r*64)::/58)
    const cases: Array<[string, string]> = [
      ['2001:db8:4200::1', '0'],
      ['2001:db8:4200:3f::1', '0'],
      ['2001:db8:4200:40::1', '1'],
      ['2001:db8:4200:c5:1::2', '3'],
      ['2001:db8:4200:ffc0::1', '1023'],
      ['2001:DB8:4200:80::1', '2'],
      ['2001:db8:4201::1', 'outside'],
      ['2001:db8:4200:zz::1', 'invalid'],
      ['1:2:3:4:5:6:7:8:9', 'invalid'],
    ];
    for (const [addr, want] of cases) expect(sh(awk, ['rack', addr]).stdout.trim(), addr).toBe(want);
  });

  const LIST = (items: string) => `apiVersion: v1\nitems:\n${items}kind: ServiceList\nmetadata:\n  resourceVersion: "42"\n`;
  const svc = (ns: string, name: string, fams: string, type = 'ClusterIP') =>
    `- metadata:\n    labels:\n      name: decoy\n    managedFields:\n    - apiVersion: v1\n      manager: kube-apiserver\n    name: ${name}\n    namespace: ${ns}\n  spec:\n    clusterIP: 2001:db8:43::1\n${fams}    ports:\n    - name: https\n      port: 443\n    type: ${type}\n  status:\n    loadBalancer: {}\n`;

  it.each(awks)('%s awk: every Service must have ipFamilies [IPv6]', (awk) => {
    const good = LIST(svc('default', 'kubernetes', '    ipFamilies:\n    - IPv6\n') + svc('kube-system', 'kube-dns', '    ipFamilies: ["IPv6"]\n') + svc('shop', 'ext', '', 'ExternalName'));
    const ok = sh(awk, ['services'], good);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toBe(
      'PASS service default/kubernetes: ipFamilies [IPv6]\nPASS service kube-system/kube-dns: ipFamilies [IPv6]\nPASS service shop/ext: ExternalName (no cluster address)\n',
    );
    const dual = sh(awk, ['services'], LIST(svc('default', 'web', '    ipFamilies:\n    - IPv6\n    - IPv4\n') + svc('default', 'old', '')));
    expect(dual.status).toBe(1);
    expect(dual.stdout).toBe('FAIL service default/web: ipFamilies [IPv6,IPv4], want [IPv6]\nFAIL service default/old: ipFamilies [], want [IPv6]\n');
    const none = sh(awk, ['services'], 'apiVersion: v1\nitems: []\nkind: ServiceList\n');
    expect(none.status).toBe(1);
  });
});

describe('acceptance: flat6 render --stack metal', () => {
  it('writes cluster/addons/*.yaml that parse, hold no IPv4 address and a CoreDNS config forwarding to the stack resolvers', async () => {
    const out = await renderStack('metal');
    const dir = join(out, 'cluster', 'addons');
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['00-namespace.yaml', '10-coredns.yaml', '20-network-policies.yaml', '30-etcd-backup.yaml', '40-conformance.yaml']);
    const objects: any[] = [];
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text, f).not.toMatch(/\b\d{1,3}(\.\d{1,3}){3}\b/);
      for (const d of parseAllDocuments(text, { uniqueKeys: true })) {
        expect(d.errors, f).toEqual([]);
        objects.push(d.toJS());
      }
    }
    expect(objects).toEqual(JSON.parse(JSON.stringify(addonObjects(plan(METAL)))));
    const corefile: string = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'coredns').data.Corefile;
    expect(corefile).toMatch(/^ {4}forward \. \[2001:4860:4860::8888\]:53 \[2606:4700:4700::1111\]:53 \{$/m);
  });

  it('a bad flat6:addons section stops the render before anything is written (exit 2, located)', async () => {
    const { cli, writeStack, tempDir } = await import('./helpers.js');
    const file = writeStack('metal', metalWith('dns: { replica: 3 }'));
    const out = join(tempDir('addons-bad'), 'out');
    const r = await cli(['render', '--stack', file, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SCHEMA_UNKNOWN_FIELD');
    expect(r.stderr).toContain('did you mean "replicas"?');
    expect(() => readdirSync(out)).toThrow();
  });
});
