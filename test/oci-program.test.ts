/**
 * The Pulumi program on the oci-lab stack under `pulumi.runtime.setMocks`:
 * every resource the program registers is recorded with its inputs and its
 * dependency URNs, and the graph is checked — an IPv6-enabled VCN, IPv6
 * subnets, ::/0 to the internet gateway, security rules with ICMPv6 (protocol
 * "58") and no world-open ingress beyond ICMPv6 errors, an IPv6 Network Load
 * Balancer with a backend on port 6443 of every control plane and /readyz
 * health checks, pinned /80s on the control planes' VNICs, the NAT64 instance
 * with its /96, workers as an instance pool over an instance configuration,
 * and user data that unpacks into the files `flat6 render` writes. The
 * program modules are imported only after the mocks are set.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { countsByType, MockRecorder, unpackCloudConfig, value, type Recorded } from './pulumi-mocks.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAB_FILE = join(ROOT, 'stacks', 'Pulumi.oci-lab.yaml');
const LAB_TEXT = readFileSync(LAB_FILE, 'utf8');
/** Stands for the /56 Oracle allocates (documentation range). */
const VCN_IPV6 = '2001:db8:b100::/56';
const SECRETS = { bootstrapToken: 'abcdef.0123456789abcdef', certificateKey: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' };

const harness = new MockRecorder(
  (args, inputs) => {
    const state: Record<string, unknown> = { ...inputs };
    if (args.type === 'oci:Core/vcn:Vcn') state['ipv6cidrBlocks'] = [VCN_IPV6];
    return { id: `ocid1.${args.name}`, state };
  },
  (args) => {
    if (args.token === 'oci:Core/getImages:getImages') return { images: [{ id: 'ocid1.image.oc1..ubuntu2404' }] };
    if (args.token === 'oci:Core/getVnicAttachments:getVnicAttachments') return { vnicAttachments: [{ nicIndex: 0, vnicId: `vnic-of-${args.inputs['instanceId']}` }] };
    return args.inputs;
  },
);
/** Which input paths each resource received as secrets. */
const secretPaths = (name: string): string[] => lab.find((r) => r.name === name)!.secrets;

async function runProgram(): Promise<Record<string, unknown>> {
  await harness.reset('oci-lab', LAB_TEXT, SECRETS);
  const program = (await import('../src/program/index.js')).default;
  const outputs = await program();
  await harness.settle(outputs);
  return outputs;
}

/** buildOciCluster on a variant of the lab stack. */
async function runCluster(text: string): Promise<Recorded[]> {
  await harness.reset('oci-lab', text, SECRETS);
  const { loadOciStack } = await import('../src/cloud/oci/config.js');
  const { buildOciCluster } = await import('../src/cloud/oci/cluster.js');
  const { parseStack } = await import('../src/spec/load.js');
  const cluster = buildOciCluster(loadOciStack(parseStack(LAB_FILE, text)), { ...SECRETS, caCertHashes: [] });
  return harness.settle(cluster.outputs as unknown as Record<string, unknown>);
}

let lab: Recorded[] = [];
let outputs: Record<string, unknown> = {};
const of = (type: string, rs = lab): Recorded[] => rs.filter((r) => r.type === type);
const one = (type: string, name: string): Recorded => {
  const r = lab.find((x) => x.type === type && x.name === name);
  expect(r, `${type} ${name}`).toBeDefined();
  return r!;
};
const urnOf = (r: Recorded): string => r.name;
const dependsOn = (r: Recorded): Set<string> => new Set(r.dependencies.map((u) => u.split('::').slice(3).join('::')));

const cloudConfigOf = unpackCloudConfig;

describe('oci-lab under mocks', () => {
  beforeAll(async () => {
    outputs = await runProgram();
    lab = harness.recorded;
  });

  it('registers the expected resources (type and count)', () => {
    expect(countsByType(lab)).toEqual({
      'flat6:oci:ApiEndpoint': 1,
      'flat6:oci:Nat64': 1,
      'flat6:oci:Network': 1,
      'flat6:oci:NodePool': 2,
      'oci:Core/instance:Instance': 4,
      'oci:Core/instanceConfiguration:InstanceConfiguration': 1,
      'oci:Core/instancePool:InstancePool': 1,
      'oci:Core/internetGateway:InternetGateway': 1,
      'oci:Core/ipv6:Ipv6': 4,
      'oci:Core/networkSecurityGroup:NetworkSecurityGroup': 4,
      'oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule': 29,
      'oci:Core/routeTable:RouteTable': 2,
      'oci:Core/securityList:SecurityList': 1,
      'oci:Core/subnet:Subnet': 2,
      'oci:Core/vcn:Vcn': 1,
      'oci:Identity/dynamicGroup:DynamicGroup': 1,
      'oci:Identity/policy:Policy': 1,
      'oci:NetworkLoadBalancer/backend:Backend': 3,
      'oci:NetworkLoadBalancer/backendSet:BackendSet': 1,
      'oci:NetworkLoadBalancer/listener:Listener': 1,
      'oci:NetworkLoadBalancer/networkLoadBalancer:NetworkLoadBalancer': 1,
      'pulumi:providers:oci': 1,
    });
    expect(of('oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule')).toHaveLength(14 + 5 + 2 + 8);
    expect(lab).toHaveLength(64);
  });

  it('the VCN is IPv6-enabled with an Oracle /56; both subnets are regional, IPv6 /64s of it, with the empty security list', () => {
    const vcn = one('oci:Core/vcn:Vcn', 'network-vcn');
    expect(vcn.inputs).toMatchObject({ isIpv6enabled: true, isOracleGuaAllocationEnabled: true, cidrBlocks: ['10.0.0.0/16'] });
    const nodes = one('oci:Core/subnet:Subnet', 'network-nodes');
    const edge = one('oci:Core/subnet:Subnet', 'network-edge');
    expect(nodes.inputs).toMatchObject({ ipv6cidrBlocks: ['2001:db8:b100::/64'], cidrBlock: '10.0.0.0/17', securityListIds: ['ocid1.network-none'], routeTableId: 'ocid1.network-nodes' });
    expect(edge.inputs).toMatchObject({ ipv6cidrBlocks: ['2001:db8:b100:80::/64'], cidrBlock: '10.0.255.224/27', securityListIds: ['ocid1.network-none'], routeTableId: 'ocid1.network-edge' });
    for (const s of [nodes, edge]) expect(s.inputs['availabilityDomain']).toBeUndefined();
    const none = one('oci:Core/securityList:SecurityList', 'network-none');
    expect(none.inputs['ingressSecurityRules'] ?? []).toEqual([]);
    expect(none.inputs['egressSecurityRules'] ?? []).toEqual([]);
  });

  it('routes ::/0 to the internet gateway; only the edge has an IPv4 route (the NAT64 instance\'s translated side)', () => {
    const igw = one('oci:Core/internetGateway:InternetGateway', 'network-igw');
    expect(igw.inputs['enabled']).toBe(true);
    const rules = (name: string): Array<{ destination: string; destinationType: string; networkEntityId: string }> => one('oci:Core/routeTable:RouteTable', name).inputs['routeRules'];
    expect(rules('network-nodes').map((r) => [r.destination, r.destinationType, r.networkEntityId])).toEqual([['::/0', 'CIDR_BLOCK', 'ocid1.network-igw']]);
    expect(rules('network-edge').map((r) => [r.destination, r.networkEntityId])).toEqual([
      ['::/0', 'ocid1.network-igw'],
      ['0.0.0.0/0', 'ocid1.network-igw'],
    ]);
  });

  describe('network security groups', () => {
    const rules = (): Recorded[] => of('oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule');
    const world = new Set(['::/0', '0.0.0.0/0']);

    it('nothing is open inbound to ::/0 or 0.0.0.0/0 except ICMPv6 errors', () => {
      const open = rules().filter((r) => r.inputs['direction'] === 'INGRESS' && world.has(r.inputs['source']));
      expect(open.length).toBeGreaterThan(0);
      for (const r of open) {
        expect(r.inputs['protocol'], r.name).toBe('58');
        expect([1, 2, 3, 4]).toContain(r.inputs['icmpOptions']?.type);
      }
      for (const r of rules()) expect(r.inputs['stateless'], r.name).toBe(false);
    });

    it('ICMPv6 (protocol 58) reaches nodes and the NAT64 instance: packet too big from anywhere, everything from the VCN', () => {
      for (const group of ['nodes', 'nat64']) {
        const ptb = rules().find((r) => r.name === `network-${group}-icmpv6-packet-too-big`)!;
        expect(ptb.inputs).toMatchObject({ direction: 'INGRESS', protocol: '58', source: '::/0', sourceType: 'CIDR_BLOCK', icmpOptions: { type: 2 } });
        const vcn = rules().find((r) => r.name === `network-${group}-icmpv6-vcn`)!;
        expect(vcn.inputs).toMatchObject({ direction: 'INGRESS', protocol: '58', source: VCN_IPV6, sourceType: 'CIDR_BLOCK' });
      }
    });

    it('the cluster ports are narrow: API 6443 from the load balancer and nodes, etcd between control planes, kubelet from control planes', () => {
      const r = (name: string): Record<string, any> => rules().find((x) => x.name === name)!.inputs;
      expect(r('network-control-plane-api-from-lb')).toMatchObject({ protocol: '6', sourceType: 'NETWORK_SECURITY_GROUP', source: 'ocid1.network-api', tcpOptions: { destinationPortRange: { min: 6443, max: 6443 } } });
      expect(r('network-control-plane-etcd')).toMatchObject({ protocol: '6', source: 'ocid1.network-control-plane', tcpOptions: { destinationPortRange: { min: 2379, max: 2380 } } });
      expect(r('network-nodes-kubelet-from-control-plane')).toMatchObject({ protocol: '6', source: 'ocid1.network-control-plane', tcpOptions: { destinationPortRange: { min: 10250, max: 10250 } } });
      expect(r('network-api-from-nodes')).toMatchObject({ protocol: '6', source: 'ocid1.network-nodes', tcpOptions: { destinationPortRange: { min: 6443, max: 6443 } } });
      // Every ingress rule that is not ICMPv6 names a group or a stack prefix, and TCP/UDP ones a port range.
      for (const x of rules().filter((y) => y.inputs['direction'] === 'INGRESS' && y.inputs['protocol'] !== '58')) {
        if (x.inputs['protocol'] === 'all') expect(x.inputs['sourceType'], x.name).toBe('NETWORK_SECURITY_GROUP');
        else expect(x.inputs['tcpOptions'] ?? x.inputs['udpOptions'], x.name).toBeDefined();
      }
    });

    it('admin prefixes open only the API port on the load balancer and SSH on nodes', async () => {
      const rs = await runCluster(LAB_TEXT.replace('adminPrefixes: []', 'adminPrefixes: ["2001:db8:5::/48"]'));
      const admin = of('oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule', rs).filter((r) => r.inputs['source'] === '2001:db8:5::/48');
      expect(admin.map((r) => [r.name, r.inputs['tcpOptions'].destinationPortRange.min])).toEqual([
        ['network-nodes-ssh-from-2001-db8-5--_48', 22],
        ['network-api-from-admin-2001-db8-5--_48', 6443],
      ]);
      lab = (await runProgram(), harness.recorded);
    });
  });

  it('the API Network Load Balancer is private and IPv6 at a pinned address; listener and backend set are IPv6; a backend on port 6443 of every control plane; /readyz health checks', () => {
    const nlb = one('oci:NetworkLoadBalancer/networkLoadBalancer:NetworkLoadBalancer', 'api-nlb');
    expect(nlb.inputs).toMatchObject({ nlbIpVersion: 'IPV6', isPrivate: true, assignedIpv6: '2001:db8:b100:80::6443', subnetId: 'ocid1.network-edge', networkSecurityGroupIds: ['ocid1.network-api'] });
    const bs = one('oci:NetworkLoadBalancer/backendSet:BackendSet', 'api-apiservers');
    expect(bs.inputs).toMatchObject({ ipVersion: 'IPV6', networkLoadBalancerId: 'ocid1.api-nlb', healthChecker: { protocol: 'HTTPS', port: 6443, urlPath: '/readyz', returnCode: 200 } });
    const listener = one('oci:NetworkLoadBalancer/listener:Listener', 'api-tcp');
    expect(listener.inputs).toMatchObject({ ipVersion: 'IPV6', protocol: 'TCP', port: 6443, defaultBackendSetName: 'apiservers' });
    const backends = of('oci:NetworkLoadBalancer/backend:Backend').map((b) => [b.inputs['ipAddress'], b.inputs['port'], b.inputs['backendSetName']]);
    const cps = of('oci:Core/instance:Instance')
      .filter((i) => i.name.startsWith('control-plane-'))
      .map((i) => i.inputs['createVnicDetails'].ipv6addressIpv6subnetCidrPairDetails[0].ipv6address);
    expect(cps).toEqual(['2001:db8:b100::10', '2001:db8:b100::11', '2001:db8:b100::12']);
    expect(backends).toEqual(cps.map((a) => [a, 6443, 'apiservers']));
  });

  it('control planes: pinned address on the VNIC, no public IPv4, metadata service v2 only, and a pinned /80 (Ipv6, cidrPrefixLength 80) on that VNIC', () => {
    const cps = of('oci:Core/instance:Instance').filter((i) => i.name.startsWith('control-plane-'));
    expect(cps.map((c) => c.inputs['availabilityDomain'])).toEqual(['Uocm:US-ASHBURN-AD-1', 'Uocm:US-ASHBURN-AD-2', 'Uocm:US-ASHBURN-AD-3']);
    for (const c of cps) {
      expect(c.inputs['createVnicDetails']).toMatchObject({ assignPublicIp: 'false', assignIpv6ip: true, subnetId: 'ocid1.network-nodes', nsgIds: ['ocid1.network-nodes', 'ocid1.network-control-plane'] });
      expect(c.inputs['instanceOptions']).toEqual({ areLegacyImdsEndpointsDisabled: true });
      expect(c.inputs).toMatchObject({ shape: 'VM.Standard.E5.Flex', shapeConfig: { ocpus: 1, memoryInGbs: 12 }, sourceDetails: { sourceType: 'image', sourceId: 'ocid1.image.oc1..ubuntu2404', bootVolumeSizeInGbs: '50' } });
    }
    const prefixes = of('oci:Core/ipv6:Ipv6').filter((p) => p.name.startsWith('control-plane-'));
    expect(prefixes.map((p) => [p.name, p.inputs['vnicId'], p.inputs['ipAddress'], p.inputs['cidrPrefixLength']])).toEqual([
      ['control-plane-cp0-pods', 'vnic-of-ocid1.control-plane-cp0', '2001:db8:b100:0:1::', 80],
      ['control-plane-cp1-pods', 'vnic-of-ocid1.control-plane-cp1', '2001:db8:b100:0:2::', 80],
      ['control-plane-cp2-pods', 'vnic-of-ocid1.control-plane-cp2', '2001:db8:b100:0:3::', 80],
    ]);
  });

  it('NAT64: one instance in the edge subnet, public IPv4, source/destination check skipped, pinned ::53, and its /96 on its VNIC', () => {
    const nat = one('oci:Core/instance:Instance', 'nat64-instance');
    expect(nat.inputs['createVnicDetails']).toMatchObject({
      subnetId: 'ocid1.network-edge',
      assignPublicIp: 'true',
      skipSourceDestCheck: true,
      ipv6addressIpv6subnetCidrPairDetails: [{ ipv6subnetCidr: '2001:db8:b100:80::/64', ipv6address: '2001:db8:b100:80::53' }],
      nsgIds: ['ocid1.network-nat64'],
    });
    const prefix = one('oci:Core/ipv6:Ipv6', 'nat64-prefix');
    expect(prefix.inputs).toMatchObject({ vnicId: 'vnic-of-ocid1.nat64-instance', ipAddress: '2001:db8:b100:80:0:64::', cidrPrefixLength: 96 });
    const { text } = cloudConfigOf(nat.inputs['metadata']['user_data']);
    expect(text).toContain('dns64-prefix: 2001:db8:b100:80:0:64::/96');
    expect(text).toContain('jool instance add flat6 --netfilter --pool6 2001:db8:b100:80:0:64::/96');
    expect(text).toContain('interface: 2001:db8:b100:80::53');
  });

  it('workers: one instance pool over one instance configuration, spread over every availability domain, IPv6 on the VNIC, no public IPv4', () => {
    const config = one('oci:Core/instanceConfiguration:InstanceConfiguration', 'workers-general-config');
    const launch = config.inputs['instanceDetails']['launchDetails'];
    expect(config.inputs['instanceDetails']['instanceType']).toBe('compute');
    expect(launch['createVnicDetails']).toMatchObject({ assignPublicIp: false, assignIpv6ip: true, nsgIds: ['ocid1.network-nodes'] });
    expect(launch['instanceOptions']).toEqual({ areLegacyImdsEndpointsDisabled: true });
    const pool = one('oci:Core/instancePool:InstancePool', 'workers-general-pool');
    expect(pool.inputs).toMatchObject({ size: 3, instanceConfigurationId: 'ocid1.workers-general-config' });
    expect(pool.inputs['placementConfigurations'].map((p: any) => [p.availabilityDomain, p.primaryVnicSubnets.subnetId, p.primaryVnicSubnets.isAssignIpv6ip])).toEqual([
      ['Uocm:US-ASHBURN-AD-1', 'ocid1.network-nodes', true],
      ['Uocm:US-ASHBURN-AD-2', 'ocid1.network-nodes', true],
      ['Uocm:US-ASHBURN-AD-3', 'ocid1.network-nodes', true],
    ]);
    // Their identity: a dynamic group and a policy that lets them give their own VNIC an IPv6 prefix.
    const policy = one('oci:Identity/policy:Policy', 'workers-policy');
    expect(policy.inputs['statements']).toContain(`Allow dynamic-group flat6-oci-lab-oci-lab-workers to manage ipv6s in compartment id ${policy.inputs['compartmentId']}`);
    expect(one('oci:Identity/dynamicGroup:DynamicGroup', 'workers-identity').inputs['matchingRule']).toBe(`ALL {instance.compartment.id = '${policy.inputs['compartmentId']}'}`);
  });

  it('no machine starts before its network, NAT64 and the API endpoint; workers also wait for their identity', () => {
    const needs = [
      'network-nodes',
      'network-edge',
      ...of('oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule').map(urnOf),
      'nat64-instance',
      'nat64-prefix',
      'api-tcp',
      'api-cp0',
    ];
    const machines = [...of('oci:Core/instance:Instance').filter((i) => i.name.startsWith('control-plane-')), ...of('oci:Core/instancePool:InstancePool')];
    expect(machines).toHaveLength(4);
    for (const m of machines) expect(needs.filter((n) => !dependsOn(m).has(n)), m.name).toEqual([]);
    const pool = one('oci:Core/instancePool:InstancePool', 'workers-general-pool');
    for (const n of ['workers-identity', 'workers-policy', 'control-plane-cp0-pods']) expect(dependsOn(pool).has(n), n).toBe(true);
  });

  it('user data: metadata "user_data" unpacks to cloud-config with the files flat6 renders, the API endpoint literal, the DNS64 resolver; secret; under 32,000 bytes; no plain-text secret', async () => {
    const cp0 = one('oci:Core/instance:Instance', 'control-plane-cp0');
    const worker = one('oci:Core/instanceConfiguration:InstanceConfiguration', 'workers-general-config').inputs['instanceDetails']['launchDetails'];
    for (const [what, metadata] of [
      ['cp0', cp0.inputs['metadata']],
      ['worker', worker['metadata']],
    ] as const) {
      expect(Object.keys(metadata), what).toEqual(['user_data']);
      expect(Buffer.byteLength(metadata['user_data']), what).toBeLessThan(32000);
      const { text, doc } = cloudConfigOf(metadata['user_data']);
      expect(text.split('\n')[0]).toBe('#cloud-config');
      expect(text).not.toContain('userData');
      const files = Object.fromEntries(doc.write_files.map((f) => [f.path, f]));
      for (const p of ['/etc/sysctl.d/99-flat6.conf', '/etc/modules-load.d/flat6.conf', '/etc/flat6/kubeadm.yaml', '/etc/cni/net.d/10-flat6.conflist', '/etc/netplan/61-flat6-pods.yaml', '/usr/local/sbin/flat6-oci-boot', '/usr/local/lib/flat6/flat6_boot.py', '/etc/flat6/oci-boot.json']) {
        expect(files[p], `${what} ${p}`).toBeDefined();
      }
      expect(files['/etc/flat6/kubeadm.yaml'].permissions).toBe('0600');
      expect(files['/etc/flat6/kubeadm.yaml'].content).toContain('"[2001:db8:b100:80::6443]:6443"');
      expect(files['/etc/systemd/resolved.conf.d/60-flat6.conf'].content).toContain('DNS=2001:db8:b100:80::53');
      expect(doc.runcmd).toEqual([['python3', '/usr/local/sbin/flat6-oci-boot', 'boot', '--config', '/etc/flat6/oci-boot.json']]);
      // The only secrets are the bootstrap token and certificate key, in the 0600 kubeadm file.
      for (const f of doc.write_files.filter((x) => x.path !== '/etc/flat6/kubeadm.yaml')) expect(f.content, f.path).not.toContain(SECRETS.bootstrapToken);
    }
    // Byte for byte what flat6's renderers write for the same node (the view of the plan with OCI's addresses).
    const { loadOciStack } = await import('../src/cloud/oci/config.js');
    const { vcnLayout } = await import('../src/cloud/oci/layout.js');
    const { ociClusterPlan, ociControlPlaneNode, ociWorkerNode } = await import('../src/cloud/oci/plan.js');
    const { renderHost } = await import('../src/render/render.js');
    const { TemplateSet } = await import('../src/render/templates.js');
    const { parseStack } = await import('../src/spec/load.js');
    const s = loadOciStack(parseStack(LAB_FILE, LAB_TEXT));
    const l = vcnLayout(VCN_IPV6, { availabilityDomains: s.oci.availabilityDomains, faultDomains: s.oci.faultDomains, ipv4Cidr: s.oci.ipv4Cidr, controlPlaneCount: 3 });
    const ctx = { plan: ociClusterPlan(s.plan, l), templates: new TemplateSet(), secrets: { ...SECRETS, caCertHashes: [] } };
    for (const [metadata, node] of [
      [cp0.inputs['metadata'], ociControlPlaneNode(s.plan, l, 0)],
      [worker['metadata'], ociWorkerNode(l, 'general')],
    ] as const) {
      const shipped = new Map(cloudConfigOf(metadata['user_data']).doc.write_files.map((f) => [f.path, f.content]));
      const rendered = renderHost(ctx, node).filter((f) => /etc\/(sysctl\.d|modules-load\.d|flat6|cni\/net\.d)\/|61-flat6-pods/.test(f.path));
      expect(rendered.length).toBe(5);
      for (const f of rendered) expect(shipped.get(f.path.replace(/^hosts\/[^/]+/, '')), f.path).toBe(f.content);
    }
    // Pulumi holds the user data as a secret.
    expect(secretPaths('control-plane-cp0').some((p) => p === 'metadata' || p === 'metadata.user_data')).toBe(true);
    expect(secretPaths('workers-general-config').some((p) => p === 'instanceDetails' || p.endsWith('user_data'))).toBe(true);
  });

  it('outputs: the endpoint literal, the VCN /56, the layout with its limits', async () => {
    expect(await value(outputs['apiEndpoint'] as pulumi.Output<string>)).toBe('[2001:db8:b100:80::6443]:6443');
    expect(await value(outputs['vcnIpv6Cidr'] as pulumi.Output<string>)).toBe(VCN_IPV6);
    expect(await value(outputs['podSubnet'] as pulumi.Output<string>)).toBe('2001:db8:b100::/57');
    const layout = await value(outputs['layout'] as pulumi.Output<Record<string, any>>);
    expect(layout['limits']).toEqual({ podPrefixLength: 80, podPrefixesInNodeSubnet: 65536, nodesByIpv6: 32769, nodesByIpv4: 32765, maxNodes: 32765, ipv6AddressesPerVnic: 32 });
    expect(layout['nat64']).toEqual({ address: '2001:db8:b100:80::53', prefix: '2001:db8:b100:80:0:64::/96' });
    // Known before OCI allocates the /56, so every preview shows it.
    expect(outputs['nodeLimit']).toEqual({ nodes: 6, maxNodes: 32765, nodesByIpv4: 32765, nodesByIpv6: 32769, podPrefixLength: 80, ipv6AddressesPerVnic: 32 });
  });

  it('scale: 3 and 3,000 workers create the same resources, with the same user data', async () => {
    const names = (rs: Recorded[]): string[] => rs.map((r) => `${r.type} ${r.name}`).sort();
    const three = await runCluster(LAB_TEXT);
    const many = await runCluster(LAB_TEXT.replace('        size: 3\n', '        size: 3000\n'));
    expect(names(many)).toEqual(names(three));
    expect(many).toHaveLength(three.length);
    const pool = (rs: Recorded[]): Recorded => rs.find((r) => r.name === 'workers-general-pool')!;
    expect(pool(three).inputs['size']).toBe(3);
    expect(pool(many).inputs['size']).toBe(3000);
    const ud = (rs: Recorded[]): string => rs.find((r) => r.name === 'workers-general-config')!.inputs['instanceDetails']['launchDetails']['metadata']['user_data'];
    expect(ud(many)).toBe(ud(three));
    lab = (await runProgram(), harness.recorded);
  });
});

describe('the program picks the cloud from the stack', () => {
  const failure = (stack: string, configText: string): Promise<string> => harness.failure(stack, configText, SECRETS);

  it('a bare-metal stack is refused: neither flat6:aws nor flat6:oci', async () => {
    const msg = await failure('multirack', readFileSync(join(ROOT, 'stacks', 'Pulumi.multirack.yaml'), 'utf8'));
    expect(msg).toMatch(/Pulumi\.multirack\.yaml:1:1: error NO_CLOUD: stack multirack is a bare-metal stack/);
    expect(msg).toContain('flat6 render --stack multirack');
  });

  it('an OCI stack with a problem fails before any resource, at its line', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { readProgramStack } = await import('../src/cloud/select.js');
    const { Flat6Error } = await import('../src/core/diagnostics.js');
    const dir = mkdtempSync(join(tmpdir(), `flat6-oci-${process.pid}-`));
    try {
      const text = LAB_TEXT.replace('memoryGiB: 12\n        size: 3', 'memoryGiB: 100\n        size: 3');
      mkdirSync(join(dir, 'stacks'));
      writeFileSync(join(dir, 'stacks', 'Pulumi.oci-lab.yaml'), text);
      const config = (parse(text) as { config: Record<string, unknown> }).config;
      let error: unknown;
      try {
        readProgramStack(dir, 'oci-lab', { cluster: config['flat6:cluster'], aws: undefined, oci: config['flat6:oci'] });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Flat6Error);
      const d = (error as InstanceType<typeof Flat6Error>).diagnostics.find((x) => x.code === 'OCI_SHAPE')!;
      expect(d.location).toEqual({ file: join(dir, 'stacks', 'Pulumi.oci-lab.yaml'), line: text.slice(0, text.indexOf('memoryGiB: 100')).split('\n').length, col: expect.any(Number) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
