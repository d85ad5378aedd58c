/**
 * The pure half of the OCI program, without Pulumi: the VCN layout (known
 * answers + properties) and its limits, the OCI checks with their places in
 * the stack file (one fixture per code under test/fixtures/oci-bad/), the
 * cloud-init user data built from the real renderers (compared with what
 * `flat6 render` writes for the same node) and the 32,000-byte metadata limit.
 * The boot script itself: test/oci-boot.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadOciStack, DNS64_STANDIN, type OciStack } from '../src/cloud/oci/config.js';
import { nodeCapacity, vcnLayout, type LayoutInput } from '../src/cloud/oci/layout.js';
import { nat64Files } from '../src/cloud/oci/nat64.js';
import { ociClusterPlan, ociControlPlaneNode, ociWorkerNode } from '../src/cloud/oci/plan.js';
import { buildOciUserData, METADATA_LIMIT, OciUserDataError, type OciUserData } from '../src/cloud/oci/userdata.js';
import { loadCloudStack } from '../src/cloud/select.js';
import { SENTINEL_HOSTNAME } from '../src/cloud/shared/sentinels.js';
import { Flat6Error, type Diagnostic } from '../src/core/diagnostics.js';
import { containsAddress, containsPrefix, formatAddress, formatPrefix, overlaps, parsePrefix } from '../src/core/ip.js';
import { validateKubeadmFile } from '../src/kubeschema/schema.js';
import type { NodePlan } from '../src/plan/plan.js';
import type { RenderContext } from '../src/render/context.js';
import { renderHost } from '../src/render/render.js';
import { TemplateSet } from '../src/render/templates.js';
import { loadStack, parseStack } from '../src/spec/load.js';
import { kubeadmDocs, writeFilesOf } from './cloud-node.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAB_FILE = join(ROOT, 'stacks', 'Pulumi.oci-lab.yaml');
const LAB_TEXT = readFileSync(LAB_FILE, 'utf8');
const BAD = join(ROOT, 'test', 'fixtures', 'oci-bad');
/** Stands for the /56 Oracle allocates (documentation range). */
const VCN = '2001:db8:b100::/56';
const SECRETS = { bootstrapToken: 'abcdef.0123456789abcdef', certificateKey: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', caCertHashes: [] as string[] };

function lab(text = LAB_TEXT): OciStack {
  return loadOciStack(parseStack(LAB_FILE, text));
}
function layoutInput(s: OciStack): LayoutInput {
  return { availabilityDomains: s.oci.availabilityDomains, faultDomains: s.oci.faultDomains, ipv4Cidr: s.oci.ipv4Cidr, controlPlaneCount: s.plan.controlPlanes.length };
}

describe('VCN layout', () => {
  it('known answer for the lab', () => {
    const l = vcnLayout(VCN, layoutInput(lab()));
    expect(formatPrefix(l.nodeTier)).toBe('2001:db8:b100::/57');
    expect(formatPrefix(l.nodeSubnet)).toBe('2001:db8:b100::/64');
    expect(formatPrefix(l.edgeSubnet)).toBe('2001:db8:b100:80::/64');
    expect(formatAddress(l.apiAddress)).toBe('2001:db8:b100:80::6443');
    expect(formatAddress(l.nat64Address)).toBe('2001:db8:b100:80::53');
    expect(formatPrefix(l.nat64Prefix)).toBe('2001:db8:b100:80:0:64::/96');
    expect(l.controlPlanes.map((c) => [c.availabilityDomain, formatAddress(c.address), formatPrefix(c.podPrefix)])).toEqual([
      ['Uocm:US-ASHBURN-AD-1', '2001:db8:b100::10', '2001:db8:b100:0:1::/80'],
      ['Uocm:US-ASHBURN-AD-2', '2001:db8:b100::11', '2001:db8:b100:0:2::/80'],
      ['Uocm:US-ASHBURN-AD-3', '2001:db8:b100::12', '2001:db8:b100:0:3::/80'],
    ]);
    expect([formatPrefix(l.nodeIpv4 as never), formatPrefix(l.edgeIpv4 as never)].length).toBe(2);
  });

  it('limits: a /16 holds 32,765 nodes (IPv4 of the node half), the /64 32,769 (one address + one /80 each); a /24 holds 125', () => {
    expect(nodeCapacity('10.0.0.0/16', 3)).toEqual({ podPrefixes: 65536, ipv6Nodes: 32769, ipv4Nodes: 32765, nodes: 32765 });
    expect(nodeCapacity('10.0.0.0/24', 3).nodes).toBe(125);
  });

  it('property: pinned addresses and /80s lie in their subnets, never overlap, and stay put when control planes are added', () => {
    const vcn = parsePrefix(VCN);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 3 }), (cps, ads) => {
        const input = { availabilityDomains: ['Uocm:US-ASHBURN-AD-1', 'Uocm:US-ASHBURN-AD-2', 'Uocm:US-ASHBURN-AD-3'].slice(0, ads), faultDomains: [], ipv4Cidr: '10.0.0.0/16', controlPlaneCount: cps };
        const l = vcnLayout(VCN, input);
        const more = vcnLayout(VCN, { ...input, controlPlaneCount: cps + 1 });
        expect(containsPrefix(vcn, l.nodeSubnet) && containsPrefix(vcn, l.edgeSubnet)).toBe(true);
        expect(overlaps(l.nodeSubnet, l.edgeSubnet)).toBe(false);
        expect(containsPrefix(l.edgeSubnet, l.nat64Prefix)).toBe(true);
        for (const a of [l.apiAddress, l.nat64Address]) {
          expect(containsAddress(l.edgeSubnet, a)).toBe(true);
          expect(containsAddress(l.nat64Prefix, a)).toBe(false);
        }
        l.controlPlanes.forEach((c, k) => {
          expect(containsAddress(l.nodeSubnet, c.address)).toBe(true);
          expect(containsPrefix(l.nodeSubnet, c.podPrefix)).toBe(true);
          for (const d of l.controlPlanes) expect(containsAddress(c.podPrefix, d.address)).toBe(false);
          for (const d of l.controlPlanes.slice(k + 1)) expect(overlaps(c.podPrefix, d.podPrefix)).toBe(false);
          expect(more.controlPlanes[k]).toEqual(c);
        });
      }),
    );
  });

  it('rejects a CIDR that is not a /56 and an IPv4 CIDR outside /16../24', () => {
    const input = layoutInput(lab());
    expect(() => vcnLayout('2001:db8:b100::/48', input)).toThrow(/not a \/56; Oracle assigns a \/56/);
    expect(() => vcnLayout(VCN, { ...input, ipv4Cidr: '10.0.0.0/28' })).toThrow(/\/16 to \/24/);
  });
});

describe('OCI checks', () => {
  it('the oci-lab stack passes the core and OCI checks', () => {
    const s = lab();
    expect(s.oci.region).toBe('us-ashburn-1');
    expect(s.plan.controlPlanes).toHaveLength(3);
    expect(s.stack.spec.network.dns).toEqual([DNS64_STANDIN]);
  });

  const fixtures = readdirSync(BAD).filter((f) => f.endsWith('.yaml')).sort();

  it.each(fixtures)('%s is refused with its code at the marked line and a fix', (file) => {
    const path = join(BAD, file);
    const text = readFileSync(path, 'utf8');
    const code = /^# expect ([A-Z0-9_]+)/.exec(text)![1];
    let ds: Diagnostic[] = [];
    try {
      loadCloudStack(loadStack(path));
    } catch (e) {
      if (!(e instanceof Flat6Error)) throw e;
      ds = e.diagnostics;
    }
    const d = ds.find((x) => x.code === code);
    expect(d, JSON.stringify(ds, null, 1)).toBeDefined();
    const marked = text.split('\n').findIndex((line, i) => i > 0 && line.includes('# here')) + 1;
    expect(d!.location?.file).toBe(path);
    expect(d!.location?.line).toBe(code === 'NO_CLOUD' ? 1 : marked);
    expect(d!.fix).toBeTruthy();
  });

  it('every code the OCI checks can report has a fixture', () => {
    const sources = ['src/cloud/oci/config.ts', 'src/cloud/shared/checks.ts', 'src/cloud/select.ts'].map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
    const literal = [...sources.matchAll(/'((?:OCI|NO)_[A-Z0-9_]+)'/g)].map((m) => m[1]);
    const shared = [...sources.matchAll(/`\$\{this\.cloud\}_([A-Z0-9_]+)`/g)].map((m) => `OCI_${m[1]}`);
    // NO_CLUSTER is the core's (test/fixtures/bad/NO_CLUSTER.yaml); every other code is new.
    const codes = [...new Set([...literal, ...shared])].filter((c) => c !== 'NO_CLUSTER').sort();
    expect(codes.length).toBeGreaterThanOrEqual(13);
    const covered = new Set(fixtures.map((f) => f.split('.')[0]));
    expect(codes.filter((c) => !covered.has(c))).toEqual([]);
  });

  it.each([
    ['an unknown field', '    nat64:\n', '    nat46:\n', 'SCHEMA_UNKNOWN_FIELD', 'nat46', 'flat6:oci.nat46'],
    ['a compartment that is not an OCID', 'compartmentId: ocid1.compartment.oc1..', 'compartmentId: compartment.oc1..', 'SCHEMA_VALUE', 'compartmentId: compartment', 'flat6:oci.compartmentId'],
    ['a bare-metal shape', '        shape: VM.Standard.E5.Flex\n        ocpus: 1\n        memoryGiB: 12\n        size: 3', '        shape: BM.Standard.E5.192\n        ocpus: 1\n        memoryGiB: 12\n        size: 3', 'SCHEMA_VALUE', 'BM.Standard', 'flat6:oci.workerPools.0.shape'],
    ['an IPv4 admin prefix', 'adminPrefixes: []', 'adminPrefixes: ["203.0.113.0/24"]', 'IPV4_LITERAL', '"203.0.113.0/24"', 'flat6:oci.adminPrefixes.0'],
  ])('%s in flat6:oci is reported at its line', (_what, from, to, code, fragment, prefix) => {
    expect(LAB_TEXT).toContain(from);
    const text = LAB_TEXT.replace(from, to);
    let ds: Diagnostic[] = [];
    try {
      lab(text);
    } catch (e) {
      ds = (e as Flat6Error).diagnostics;
    }
    const d = ds.find((x) => x.code === code);
    expect(d, JSON.stringify(ds, null, 1)).toBeDefined();
    expect(d!.message.startsWith(prefix)).toBe(true);
    expect(d!.location?.file).toBe(LAB_FILE);
    expect(d!.location?.line).toBe(text.slice(0, text.indexOf(fragment)).split('\n').length);
    expect(d!.fix).toBeTruthy();
  });

  it('core and OCI problems are reported together', () => {
    const text = LAB_TEXT.replace('services: "fd3c:9a52:7e11::/112"', 'services: "fd3c:9a52:7e11::/100"').replace('podPrefixLength: 80', 'podPrefixLength: 96');
    let codes: string[] = [];
    try {
      lab(text);
    } catch (e) {
      codes = (e as Flat6Error).diagnostics.map((d) => d.code);
    }
    expect(codes).toContain('SERVICE_MASK');
    expect(codes).toContain('OCI_POD_PREFIX');
  });

  it('a stack without flat6:oci or flat6:aws is refused by the program with what to do', () => {
    let ds: Diagnostic[] = [];
    try {
      loadCloudStack(loadStack(join(ROOT, 'stacks', 'Pulumi.metal.yaml')));
    } catch (e) {
      ds = (e as Flat6Error).diagnostics;
    }
    expect(ds.map((d) => d.code)).toEqual(['NO_CLOUD']);
    expect(ds[0].fix).toContain('flat6 render --stack metal');
  });
});

describe('user data', () => {
  const s = lab();
  const l = vcnLayout(VCN, layoutInput(s));
  const view = ociClusterPlan(s.plan, l);
  const ctx: RenderContext = { plan: view, templates: new TemplateSet(), secrets: SECRETS };
  const nodes: Array<[string, NodePlan]> = [
    ['cp0', ociControlPlaneNode(s.plan, l, 0)],
    ['cp1', ociControlPlaneNode(s.plan, l, 1)],
    ['worker', ociWorkerNode(l, 'general')],
  ];
  const built = new Map<string, OciUserData>(nodes.map(([k, n]) => [k, buildOciUserData(ctx, l, n, { region: 'us-ashburn-1' })]));
  const writeFiles = (u: OciUserData): ReturnType<typeof writeFilesOf> => writeFilesOf(u.text, [['python3', '/usr/local/sbin/flat6-oci-boot', 'boot', '--config', '/etc/flat6/oci-boot.json']]);


  it.each(nodes.map(([k]) => k))('%s: the decoded user data carries exactly the files flat6 renders for the node, and fits the metadata limit', (key) => {
    const node = nodes.find(([k]) => k === key)![1];
    const u = built.get(key)!;
    expect(gunzipSync(Buffer.from(u.base64, 'base64')).toString('utf8')).toBe(u.text);
    const files = writeFiles(u);
    const rendered = renderHost(ctx, node).map((f) => ({ ...f, path: f.path.replace(`hosts/${SENTINEL_HOSTNAME}/`, '/') }));
    for (const path of ['/etc/sysctl.d/99-flat6.conf', '/etc/modules-load.d/flat6.conf', '/etc/flat6/kubeadm.yaml', '/etc/cni/net.d/10-flat6.conflist', '/etc/netplan/61-flat6-pods.yaml']) {
      const r = rendered.find((f) => f.path === path);
      expect(r, `renderers produced ${path}`).toBeDefined();
      expect(files.get(path)?.content, path).toBe(r!.content);
      expect(files.get(path)?.permissions).toBe(`0${r!.mode.toString(8)}`);
    }
    expect([...files.keys()].filter((p) => p === '/etc/netplan/60-flat6.yaml' || /keepalived|haproxy|bird/.test(p))).toEqual([]);
    expect(files.get('/etc/systemd/resolved.conf.d/60-flat6.conf')!.content).toContain('DNS=2001:db8:b100:80::53');
    expect(files.get('/usr/local/sbin/flat6-oci-boot')!.permissions).toBe('0755');
    expect(files.get('/usr/local/lib/flat6/flat6_boot.py')!.content).toBe(readFileSync(join(ROOT, 'templates', 'aws', 'flat6-aws-boot.py'), 'utf8'));
    expect(u.metadataBytes).toBe(Buffer.byteLength(u.base64));
    expect(u.metadataBytes).toBeLessThanOrEqual(METADATA_LIMIT);
    // Control planes carry their pinned /80, workers the stand-in their boot script replaces.
    const cni = files.get('/etc/cni/net.d/10-flat6.conflist')!.content;
    if (key === 'worker') expect(cni).toContain('2001:db8:ffff:fff6:8000::/80');
    else expect(cni).toContain(formatPrefix(l.controlPlanes[Number(key.slice(2))].podPrefix));
  });

  it('kubeadm files pass the kubeadm schema and point at the load balancer literal; no Kubernetes address is IPv4', () => {
    const init = kubeadmDocs(writeFiles(built.get('cp0')!).get('/etc/flat6/kubeadm.yaml')!.content);
    const join = kubeadmDocs(writeFiles(built.get('worker')!).get('/etc/flat6/kubeadm.yaml')!.content);
    expect(validateKubeadmFile(init)).toEqual([]);
    expect(validateKubeadmFile(join)).toEqual([]);
    const cc = init.find((d) => d['kind'] === 'ClusterConfiguration')!;
    expect(cc['controlPlaneEndpoint']).toBe('[2001:db8:b100:80::6443]:6443');
    expect(cc['networking']['podSubnet']).toBe('2001:db8:b100::/57');
    expect(cc['apiServer']['certSANs']).toEqual(expect.arrayContaining(['2001:db8:b100:80::6443', '2001:db8:b100::10', '2001:db8:b100::11', '2001:db8:b100::12']));
    const ic = init.find((d) => d['kind'] === 'InitConfiguration')!;
    expect(ic['localAPIEndpoint']['advertiseAddress']).toBe('2001:db8:b100::10');
    const jc = join.find((d) => d['kind'] === 'JoinConfiguration')!;
    expect(jc['discovery']['bootstrapToken']['apiServerEndpoint']).toBe('[2001:db8:b100:80::6443]:6443');
    const all = [...init, ...join].map((d) => JSON.stringify(d)).join('\n');
    expect(all).not.toMatch(/(?<![\d.])(\d{1,3}\.){3}\d{1,3}(?![\d.])/);
  });

  it('boot configs name the role, the pinned address and /80 of a control plane, and the NAT64 prefix', () => {
    expect(built.get('cp0')!.bootConfig).toMatchObject({ role: 'init', expectedAddress: '2001:db8:b100::10', podPrefix: '2001:db8:b100:0:1::/80', nat64Prefix: '2001:db8:b100:80:0:64::/96', region: 'us-ashburn-1', imds: 'http://169.254.169.254' });
    expect(built.get('cp1')!.bootConfig).toMatchObject({ role: 'join-control-plane', expectedAddress: '2001:db8:b100::11', podPrefix: '2001:db8:b100:0:2::/80' });
    expect(built.get('worker')!.bootConfig).toMatchObject({ role: 'join', expectedAddress: null, podPrefix: null, podPrefixLength: 80 });
  });

  it('is deterministic, and metadata over 32,000 bytes is refused before anything is created', () => {
    expect(buildOciUserData(ctx, l, nodes[0][1], { region: 'us-ashburn-1' }).base64).toBe(built.get('cp0')!.base64);
    const keys = Array.from({ length: 16 }, (_, i) => `ssh-rsa ${'A'.repeat(2000)}${i} key${i}`).join('\n');
    expect(() => buildOciUserData(ctx, l, nodes[2][1], { region: 'us-ashburn-1', sshAuthorizedKeys: keys })).toThrow(OciUserDataError);
    expect(() => buildOciUserData(ctx, l, nodes[2][1], { region: 'us-ashburn-1', sshAuthorizedKeys: keys })).toThrow(/at most 32000/);
  });

  it('NAT64 instance files: Unbound DNS64 on the pinned address with the VCN\'s prefix, Jool over the /96', () => {
    const f = nat64Files(l);
    expect(f.unbound).toContain('interface: 2001:db8:b100:80::53');
    expect(f.unbound).toContain('dns64-prefix: 2001:db8:b100:80:0:64::/96');
    expect(f.unbound).toContain('access-control: 2001:db8:b100::/56 allow');
    expect(f.unit).toContain('jool instance add flat6 --netfilter --pool6 2001:db8:b100:80:0:64::/96');
  });
});
