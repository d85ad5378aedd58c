/**
 * The pure half of the AWS program, without Pulumi: instance-type rules, the
 * VPC layout (known answers + properties), the AWS checks with their places in
 * the stack file, and the cloud-init user data built from the real renderers.
 * The boot script and the project's wiring: test/cloud-boot.test.ts.
 */
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiCertSans, apiHostName, awsClusterPlan, awsControlPlaneNode, awsWorkerNode, ApiEndpointError } from '../src/cloud/aws/plan.js';
import { archOf, checkInstanceType } from '../src/cloud/aws/instance-types.js';
import { API_ADDRESS_OFFSET, formatIpv4Prefix, ipv4Subnet, LayoutError, parseIpv4Prefix, pinnedAddresses, vpcLayout, type LayoutInput } from '../src/cloud/aws/layout.js';
import { SENTINEL_HOSTNAME } from '../src/cloud/shared/sentinels.js';
import { addCertSans, buildUserData, splitEndpoint, USER_DATA_LIMIT, type UserData } from '../src/cloud/aws/userdata.js';
import { Flat6Error, type Diagnostic } from '../src/core/diagnostics.js';
import { containsAddress, containsPrefix, formatAddress, formatPrefix, overlaps } from '../src/core/ip.js';
import { validateKubeadmFile } from '../src/kubeschema/schema.js';
import type { NodePlan } from '../src/plan/plan.js';
import type { RenderContext } from '../src/render/context.js';
import { renderHost } from '../src/render/render.js';
import { TemplateSet } from '../src/render/templates.js';
import { AWS_LAB_FILE as LAB_FILE, AWS_LAB_TEXT as LAB_TEXT, AWS_NLB_DNS as NLB_DNS, AWS_SECRETS as SECRETS, AWS_VPC as VPC, awsLab as lab, kubeadmDocs, writeFilesOf } from './cloud-node.js';



/** Replace one exact line fragment of the lab stack (fails loudly if the fragment is gone). */
function variant(from: string, to: string): string {
  expect(LAB_TEXT).toContain(from);
  return LAB_TEXT.replace(from, to);
}

function diagnosticsOf(text: string): Diagnostic[] {
  try {
    lab(text);
  } catch (e) {
    if (e instanceof Flat6Error) return e.diagnostics;
    throw e;
  }
  throw new Error('expected the stack to be rejected');
}

function lineOf(text: string, fragment: string): number {
  const i = text.indexOf(fragment);
  expect(i).toBeGreaterThanOrEqual(0);
  return text.slice(0, i).split('\n').length;
}

describe('instance types', () => {
  it.each([
    ['t3.medium', true, 'x86_64'],
    ['t3a.large', true, 'x86_64'],
    ['m5.large', true, 'x86_64'],
    ['m7i-flex.large', true, 'x86_64'],
    ['m7g.large', true, 'arm64'],
    ['c7gn.xlarge', true, 'arm64'],
    ['t4g.small', true, 'arm64'],
    ['a1.large', true, 'arm64'],
    ['is4gen.large', true, 'arm64'],
    ['g5g.xlarge', true, 'arm64'],
    ['i3.metal', true, 'x86_64'],
    ['u-6tb1.metal', true, 'x86_64'],
    ['m8g.large', true, 'arm64'],
    ['t2.micro', false, undefined],
    ['m4.large', false, undefined],
    ['c4.xlarge', false, undefined],
    ['i3.large', false, undefined],
    ['p3.2xlarge', false, undefined],
    ['mac2.metal', false, undefined],
    ['large', false, undefined],
  ] as const)('%s: Nitro %s', (type, ok, arch) => {
    const v = checkInstanceType(type);
    expect(v.ok).toBe(ok);
    if (ok) expect(v.arch).toBe(arch);
    else expect(v.reason).toMatch(/Nitro|not an EC2 instance type|Mac/);
  });

  it('architecture follows the Graviton "g" after the generation', () => {
    expect(archOf('c6gd.large')).toBe('arm64');
    expect(archOf('c6id.large')).toBe('x86_64');
  });
});

describe('VPC layout', () => {
  const input: LayoutInput = { region: 'us-east-2', zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'], ipv4Cidr: '10.0.0.0/24', controlPlaneCount: 3 };

  it('known answer for a /56 and three zones', () => {
    const l = vpcLayout(VPC, input);
    expect(formatPrefix(l.nodeTier)).toBe('2001:db8:a100::/57');
    expect(l.zones.map((z) => formatPrefix(z.nodeSubnet))).toEqual(['2001:db8:a100::/64', '2001:db8:a100:1::/64', '2001:db8:a100:2::/64']);
    expect(l.zones.map((z) => formatPrefix(z.edgeSubnet))).toEqual(['2001:db8:a100:80::/64', '2001:db8:a100:81::/64', '2001:db8:a100:82::/64']);
    expect(l.zones.map((z) => formatIpv4Prefix(z.edgeIpv4))).toEqual(['10.0.0.0/28', '10.0.0.16/28', '10.0.0.32/28']);
    expect(formatAddress(l.apiAddress)).toBe('2001:db8:a100:80::6443');
    expect(l.controlPlanes.map((c) => [c.zone, formatAddress(c.address)])).toEqual([
      ['us-east-2a', '2001:db8:a100::10'],
      ['us-east-2b', '2001:db8:a100:1::11'],
      ['us-east-2c', '2001:db8:a100:2::12'],
    ]);
  });

  it('a zone keeps its subnets when other zones come and go (position by letter)', () => {
    const all = vpcLayout(VPC, { ...input, zones: ['us-east-2a', 'us-east-2b', 'us-east-2c'] });
    const fewer = vpcLayout(VPC, { ...input, zones: ['us-east-2c', 'us-east-2b'] });
    for (const z of fewer.zones) {
      const same = all.zones.find((x) => x.zone === z.zone)!;
      expect(formatPrefix(z.nodeSubnet)).toBe(formatPrefix(same.nodeSubnet));
      expect(formatPrefix(z.edgeSubnet)).toBe(formatPrefix(same.edgeSubnet));
      expect(formatIpv4Prefix(z.edgeIpv4)).toBe(formatIpv4Prefix(same.edgeIpv4));
    }
  });

  it('property: subnets are /64s inside their tier, never overlap, and pinned addresses sit inside their subnets', () => {
    const letters = 'abcdefghijklmnop'.split('');
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 56n) - 1n }),
        fc.uniqueArray(fc.constantFrom(...letters), { minLength: 1, maxLength: letters.length }),
        fc.integer({ min: 1, max: 7 }),
        (hi, picked, cps) => {
          const vpc = formatPrefix({ base: hi << 72n, length: 56 });
          const zones = picked.map((c) => `eu-west-1${c}`);
          const l = vpcLayout(vpc, { region: 'eu-west-1', zones, ipv4Cidr: '10.20.30.0/24', controlPlaneCount: cps });
          const again = vpcLayout(vpc, { region: 'eu-west-1', zones, ipv4Cidr: '10.20.30.0/24', controlPlaneCount: cps });
          expect(JSON.stringify(again, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).toBe(JSON.stringify(l, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
          const subnets = l.zones.flatMap((z) => [z.nodeSubnet, z.edgeSubnet]);
          for (const s of subnets) {
            expect(s.length).toBe(64);
            expect(containsPrefix(l.vpc, s)).toBe(true);
          }
          for (let i = 0; i < subnets.length; i++) for (let j = i + 1; j < subnets.length; j++) expect(overlaps(subnets[i], subnets[j])).toBe(false);
          for (const z of l.zones) {
            expect(containsPrefix(l.nodeTier, z.nodeSubnet)).toBe(true);
            expect(containsPrefix(l.edgeTier, z.edgeSubnet)).toBe(true);
            expect(containsAddress(z.edgeSubnet, z.apiAddress)).toBe(true);
            expect(z.apiAddress - z.edgeSubnet.base).toBe(API_ADDRESS_OFFSET);
          }
          const addrs = new Set(l.controlPlanes.map((c) => c.address));
          expect(addrs.size).toBe(cps);
          for (const c of l.controlPlanes) {
            const z = l.zones.find((x) => x.zone === c.zone)!;
            expect(containsAddress(z.nodeSubnet, c.address)).toBe(true);
            // AWS reserves the first four and the last address of a subnet.
            expect(c.address - z.nodeSubnet.base).toBeGreaterThanOrEqual(4n);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    ['10.0.0.0/24', '10.0.0.0/24'],
    [' 10.20.30.0/24 ', '10.20.30.0/24'],
    ['010.0.0.0/24', /not a valid IP address/],
    ['10.0.0.1/24', /host bits set; the network is 10\.0\.0\.0\/24/],
    ['10.0.0.256/24', /not a valid IP address/],
    ['10.0.0.0/33', /exceeds 32/],
    ['10.0.0.0', /no prefix length/],
    ['2001:db8::/56', /not an IPv4 prefix/],
  ] as const)('the VPC IPv4 CIDR %j is read by src/core/ip.ts', (text, want) => {
    if (typeof want === 'string') expect(formatIpv4Prefix(parseIpv4Prefix(text))).toBe(want);
    else expect(() => parseIpv4Prefix(text)).toThrow(want);
  });

  it('edge /28s: number i of the IPv4 CIDR, inside it, and no further than it holds', () => {
    const v4 = parseIpv4Prefix('10.0.0.0/24');
    expect([0, 1, 15].map((i) => formatIpv4Prefix(ipv4Subnet(v4, 28, i)))).toEqual(['10.0.0.0/28', '10.0.0.16/28', '10.0.0.240/28']);
    expect(() => ipv4Subnet(v4, 28, 16)).toThrow(/holds 16 \/28 subnets; number 16 does not exist/);
    expect(formatIpv4Prefix(ipv4Subnet(parseIpv4Prefix('10.255.255.0/24'), 28, 15))).toBe('10.255.255.240/28');
  });

  it('pinned addresses: every control plane and the load balancer in every zone, each reserved as a /128 in its own subnet', () => {
    const l = vpcLayout(VPC, input);
    const pins = pinnedAddresses(l);
    expect(pins.map((p) => [p.key, p.tier, formatPrefix(p.reservation)])).toEqual([
      ['cp0', 'nodes', '2001:db8:a100::10/128'],
      ['cp1', 'nodes', '2001:db8:a100:1::11/128'],
      ['cp2', 'nodes', '2001:db8:a100:2::12/128'],
      ['api-a', 'edge', '2001:db8:a100:80::6443/128'],
      ['api-b', 'edge', '2001:db8:a100:81::6443/128'],
      ['api-c', 'edge', '2001:db8:a100:82::6443/128'],
    ]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...'abcdefghijklmnop'.split('')), { minLength: 1, maxLength: 16 }), fc.integer({ min: 1, max: 7 }), (picked, cps) => {
        const m = vpcLayout(VPC, { ...input, zones: picked.map((c) => `us-east-2${c}`), controlPlaneCount: cps });
        const p = pinnedAddresses(m);
        const want = [...m.controlPlanes.map((c) => c.address), ...m.zones.map((z) => z.apiAddress)];
        expect(p.map((x) => x.address).sort()).toEqual([...want].sort());
        expect(new Set(p.map((x) => x.key)).size).toBe(p.length);
        for (const x of p) {
          const z = m.zones.find((zz) => zz.zone === x.zone)!;
          expect(containsAddress(x.reservation, x.address)).toBe(true);
          expect(containsPrefix(x.tier === 'nodes' ? z.nodeSubnet : z.edgeSubnet, x.reservation)).toBe(true);
        }
        for (let i = 0; i < p.length; i++) for (let j = i + 1; j < p.length; j++) expect(overlaps(p[i].reservation, p[j].reservation)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it.each([
    ['us-west-1a', 'is not a zone of region us-east-2'],
    ['us-east-2-bos-1a', 'is not a zone of region us-east-2'],
  ])('rejects zone %s', (zone, message) => {
    expect(() => vpcLayout(VPC, { ...input, zones: [zone] })).toThrow(message);
  });

  it('rejects a CIDR that is not a /56 and an IPv4 CIDR without room for a zone letter', () => {
    expect(() => vpcLayout('2001:db8:a100::/48', input)).toThrow(LayoutError);
    expect(() => vpcLayout(VPC, { ...input, ipv4Cidr: '10.0.0.0/26', zones: ['us-east-2e'] })).toThrow(/IPv4 \/28 number 4/);
  });
});

describe('AWS checks', () => {
  it('the aws-lab stack passes the core and AWS checks', () => {
    const s = lab();
    expect(s.aws.region).toBe('us-east-2');
    expect(s.aws.availabilityZones).toHaveLength(3);
    expect(s.plan.controlPlanes).toHaveLength(3);
    expect(s.plan.apiServerPort).toBe(s.plan.apiPort);
  });

  it.each([
    ['a Xen instance type', '      instanceType: t3.medium   # Nitro', '      instanceType: m4.large   # Nitro', 'AWS_INSTANCE_TYPE', 'm4.large', 'flat6:aws.controlPlane.instanceType'],
    ['a worker pool of a Xen type', '        instanceType: t3.medium\n        size: 3', '        instanceType: t2.large\n        size: 3', 'AWS_INSTANCE_TYPE', 't2.large', 'flat6:aws.workerPools.0.instanceType'],
    ['a zone of another region', 'availabilityZones: [us-east-2a, us-east-2b, us-east-2c]', 'availabilityZones: [us-east-2a, us-west-1b, us-east-2c]', 'AWS_ZONE', 'us-west-1b', 'flat6:aws.availabilityZones.1'],
    ['an IPv4 admin prefix', 'adminPrefixes: []', 'adminPrefixes: ["203.0.113.0/24"]', 'IPV4_LITERAL', '"203.0.113.0/24"', 'flat6:aws.adminPrefixes.0'],
    ['an unknown field', '    natGateway: single', '    natGateways: single', 'SCHEMA_UNKNOWN_FIELD', 'natGateways', 'flat6:aws.natGateways'],
    ['min above size', '        size: 3\n', '        size: 3\n        minSize: 5\n', 'AWS_POOL', '        size: 3', 'flat6:aws.workerPools.0.size'],
  ])('%s in flat6:aws is reported at its line', (_what, from, to, code, fragment, prefix) => {
    const text = variant(from, to);
    const ds = diagnosticsOf(text);
    const d = ds.find((x) => x.code === code);
    expect(d, JSON.stringify(ds, null, 1)).toBeDefined();
    expect(d!.message.startsWith(prefix)).toBe(true);
    expect(d!.location?.file).toBe(LAB_FILE);
    expect(d!.location?.line).toBe(lineOf(text, fragment));
    expect(d!.fix).toBeTruthy();
  });

  it.each([
    ['a /64 pod prefix', '      podPrefixLength: 80 ', '      podPrefixLength: 64 ', 'AWS_POD_PREFIX', 'network.podPrefixLength', 'podPrefixLength: 64'],
    ['a resolver without DNS64', 'dns: ["fd00:ec2::253"]', 'dns: ["2001:4860:4860::8888"]', 'AWS_DNS', 'network.dns', 'dns: ["2001:4860:4860::8888"]'],
    ['workers listed in racks', '{ name: control-plane, nodes: 3 }', '{ name: control-plane, nodes: 5 }', 'AWS_NODES', 'racks', '{ name: control-plane, nodes: 5 }'],
    ['the bare-metal VIP pair', '      loadBalancer: none ', '      loadBalancer: keepalived-haproxy ', 'AWS_LOAD_BALANCER', 'controlPlane.loadBalancer', 'loadBalancer: keepalived-haproxy'],
  ])('%s in flat6:cluster is reported with its path and line', (_what, from, to, code, path, fragment) => {
    const text = variant(from, to);
    const ds = diagnosticsOf(text);
    const d = ds.find((x) => x.code === code);
    expect(d, JSON.stringify(ds, null, 1)).toBeDefined();
    expect(d!.path).toBe(path);
    expect(d!.location?.line).toBe(lineOf(text, fragment));
    expect(d!.fix).toBeTruthy();
  });

  it('core and AWS problems are reported together', () => {
    const text = variant('services: "fd3c:9a52:7e10::/112"', 'services: "fd3c:9a52:7e10::/100"').replace('instanceType: t3.medium   # Nitro', 'instanceType: c4.large   # Nitro');
    const codes = diagnosticsOf(text).map((d) => d.code);
    expect(codes).toContain('SERVICE_MASK');
    expect(codes).toContain('AWS_INSTANCE_TYPE');
  });

  it('a stack without flat6:aws says what to add', () => {
    const text = LAB_TEXT.replace(/ {2}flat6:aws:[\s\S]*?(?= {2}flat6:cluster:)/, '');
    const ds = diagnosticsOf(text);
    expect(ds.map((d) => d.code)).toEqual(['NO_CLUSTER']);
    expect(ds[0].fix).toContain('workerPools');
  });
});

describe('user data', () => {
  const s = lab();
  const l = vpcLayout(VPC, { region: s.aws.region, zones: s.aws.availabilityZones, ipv4Cidr: s.aws.ipv4Cidr, controlPlaneCount: s.plan.controlPlanes.length });
  const view = awsClusterPlan(s.plan, l, NLB_DNS);
  const ctx: RenderContext = { plan: view, templates: new TemplateSet(), secrets: SECRETS };
  const certSans = apiCertSans(l, NLB_DNS);
  const nodes: Array<[string, NodePlan]> = [
    ['cp0', awsControlPlaneNode(s.plan, l, 0)],
    ['cp1', awsControlPlaneNode(s.plan, l, 1)],
    ['worker', awsWorkerNode(l, 'general')],
  ];
  const built = new Map<string, UserData>(nodes.map(([k, n]) => [k, buildUserData(ctx, n, { certSans })]));
  const apiEndpoint = `${NLB_DNS}:${s.plan.apiPort}`;
  const writeFiles = (u: UserData): ReturnType<typeof writeFilesOf> => writeFilesOf(u.text, [['python3', '/usr/local/sbin/flat6-aws-boot', 'boot', '--config', '/etc/flat6/aws-boot.json']]);


  it.each(nodes.map(([k]) => k))('%s: cloud-config carries exactly the rendered sysctl, kubeadm, CNI and pod-route files', (key) => {
    const node = nodes.find(([k]) => k === key)![1];
    const u = built.get(key)!;
    const files = writeFiles(u);
    const rendered = renderHost(ctx, node).map((f) => ({ ...f, path: f.path.replace(`hosts/${SENTINEL_HOSTNAME}/`, '/') }));
    const must = ['/etc/sysctl.d/99-flat6.conf', '/etc/modules-load.d/flat6.conf', '/etc/flat6/kubeadm.yaml', '/etc/cni/net.d/10-flat6.conflist', '/etc/netplan/61-flat6-pods.yaml'];
    for (const path of must) {
      const r = rendered.find((f) => f.path === path);
      expect(r, `renderers produced ${path}`).toBeDefined();
      // The init file's certSANs also name the load balancer (added lines only; the rest is as rendered).
      const want = path === '/etc/flat6/kubeadm.yaml' && u.bootConfig.role === 'init' ? addCertSans(r!.content, certSans) : r!.content;
      expect(files.get(path)?.content).toBe(want);
      expect(files.get(path)?.permissions).toBe(`0${r!.mode.toString(8)}`);
    }
    // What AWS provides itself is not shipped.
    expect([...files.keys()].filter((p) => p === '/etc/netplan/60-flat6.yaml' || /keepalived|haproxy|bird/.test(p))).toEqual([]);
    expect(u.skipped).toContain('etc/netplan/60-flat6.yaml');
    expect(files.get('/etc/flat6/kubeadm.yaml')!.permissions).toBe('0600');
    expect(files.get('/etc/systemd/resolved.conf.d/60-flat6.conf')!.content).toContain('DNS=fd00:ec2::253');
    expect(files.get('/usr/local/sbin/flat6-aws-boot')!.permissions).toBe('0755');
    expect(u.compressedBytes).toBeLessThanOrEqual(USER_DATA_LIMIT);
    expect(gunzipSync(Buffer.from(u.base64, 'base64')).toString('utf8')).toBe(u.text);
    const cni = JSON.parse(files.get('/etc/cni/net.d/10-flat6.conflist')!.content);
    expect(cni.plugins.find((x: { type: string }) => x.type === 'ptp').ipam.ranges[0][0].subnet).toBe('2001:db8:ffff:fff6:8000::/80');
  });

  it('kubeadm files pass the kubeadm schema and point at the load balancer with the AWS pod subnet', () => {
    const init = kubeadmDocs(writeFiles(built.get('cp0')!).get('/etc/flat6/kubeadm.yaml')!.content);
    const join = kubeadmDocs(writeFiles(built.get('cp1')!).get('/etc/flat6/kubeadm.yaml')!.content);
    const worker = kubeadmDocs(writeFiles(built.get('worker')!).get('/etc/flat6/kubeadm.yaml')!.content);
    for (const docs of [init, join, worker]) expect(validateKubeadmFile(docs)).toEqual([]);
    const cc = init.find((d) => d['kind'] === 'ClusterConfiguration')!;
    expect(cc['controlPlaneEndpoint']).toBe(apiEndpoint);
    expect(cc['networking']['podSubnet']).toBe('2001:db8:a100::/57');
    expect(cc['networking']['serviceSubnet']).toBe('fd3c:9a52:7e10::/112');
    // The core renderer's (first zone's load balancer address, each control plane) and then the AWS ones:
    // the load balancer's DNS name, the endpoint, and its address in the other zones.
    expect(cc['apiServer']['certSANs']).toEqual([
      '2001:db8:a100:80::6443',
      '2001:db8:a100::10',
      '2001:db8:a100:1::11',
      '2001:db8:a100:2::12',
      NLB_DNS,
      '2001:db8:a100:81::6443',
      '2001:db8:a100:82::6443',
    ]);
    const ic = init.find((d) => d['kind'] === 'InitConfiguration')!;
    expect(ic['nodeRegistration']['kubeletExtraArgs']).toContainEqual({ name: 'node-ip', value: '2001:db8:a100::10' });
    expect(ic['nodeRegistration']['name']).toBe(SENTINEL_HOSTNAME);
    const jc = join.find((d) => d['kind'] === 'JoinConfiguration')!;
    expect(jc['discovery']['bootstrapToken']['apiServerEndpoint']).toBe(apiEndpoint);
    expect(jc['controlPlane']['localAPIEndpoint']['advertiseAddress']).toBe('2001:db8:a100:1::11');
    const wj = worker.find((d) => d['kind'] === 'JoinConfiguration')!;
    expect(wj['discovery']['bootstrapToken']['apiServerEndpoint']).toBe(apiEndpoint);
    expect(wj['controlPlane']).toBeUndefined();
    const kubelet = init.find((d) => d['kind'] === 'KubeletConfiguration')!;
    expect(kubelet['clusterDNS']).toEqual(['fd3c:9a52:7e10::a']);
  });

  it('certSANs are added as lines of the list, the rest of the rendered file untouched; join files have none to add', () => {
    const node = awsControlPlaneNode(s.plan, l, 0);
    const rendered = renderHost(ctx, node).find((f) => f.path.endsWith('etc/flat6/kubeadm.yaml'))!.content;
    const out = addCertSans(rendered, certSans);
    expect(out).not.toBe(rendered);
    // Removing the added lines gives back the rendered file byte for byte.
    const extra = [`    - "${NLB_DNS}"`, '    - "2001:db8:a100:81::6443"', '    - "2001:db8:a100:82::6443"'];
    expect(out.split('\n').filter((line) => !extra.includes(line)).join('\n')).toBe(rendered);
    expect(out.split('\n').filter((line) => extra.includes(line))).toEqual(extra);
    // Idempotent, and names already listed are not repeated.
    expect(addCertSans(out, certSans)).toBe(out);
    expect(addCertSans(rendered, ['2001:db8:a100::10'])).toBe(rendered);
    // A join file has no ClusterConfiguration: unchanged.
    const join = renderHost(ctx, awsControlPlaneNode(s.plan, l, 1)).find((f) => f.path.endsWith('etc/flat6/kubeadm.yaml'))!.content;
    expect(addCertSans(join, certSans)).toBe(join);
    expect(() => addCertSans(rendered, ['bad\nname'])).toThrow(/line break/);
  });

  it('the endpoint host is the load balancer\'s name in lower case, and nothing that is not a DNS name', () => {
    expect(apiHostName('Internal-API-nlb-0123ABCDEF.elb.us-east-2.amazonaws.com.')).toBe('internal-api-nlb-0123abcdef.elb.us-east-2.amazonaws.com');
    for (const bad of ['', 'no_underscores.example', 'two words.example', 'x.example\nkind: Evil', '-lead.example', 'single']) {
      expect(() => apiHostName(bad), JSON.stringify(bad)).toThrow(ApiEndpointError);
    }
    expect(view.controlPlaneEndpoint).toBe(`${NLB_DNS}:6443`);
    expect(splitEndpoint(view.controlPlaneEndpoint)).toEqual({ host: NLB_DNS, port: 6443 });
    expect(splitEndpoint('[2001:db8:0:0::1]:6443')).toEqual({ host: '2001:db8::1', port: 6443 });
    expect(certSans).toEqual([NLB_DNS, '2001:db8:a100:80::6443', '2001:db8:a100:81::6443', '2001:db8:a100:82::6443']);
  });

  it('boot configs name the role and the pinned address', () => {
    expect(built.get('cp0')!.bootConfig).toMatchObject({ role: 'init', expectedAddress: '2001:db8:a100::10', kubernetesVersion: 'v1.33.4', apiEndpoint: { host: NLB_DNS, port: 6443 } });
    expect(built.get('cp1')!.bootConfig).toMatchObject({ role: 'join-control-plane', expectedAddress: '2001:db8:a100:1::11' });
    expect(built.get('worker')!.bootConfig).toMatchObject({ role: 'join', expectedAddress: null });
  });

  it('is deterministic', () => {
    for (const [k, n] of nodes) {
      const again = buildUserData(ctx, n, { certSans });
      expect(again.text).toBe(built.get(k)!.text);
      expect(again.base64).toBe(built.get(k)!.base64);
    }
  });
});
