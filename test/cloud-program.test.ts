/**
 * The Pulumi program under `pulumi.runtime.setMocks`: every resource the
 * program registers is recorded with its inputs, and the graph is checked —
 * IPv6-only node subnets with DNS64, NAT64 and egress-only routes, security
 * groups that open nothing to the world beyond what the stack asks for,
 * ICMPv6, launch templates (IMDSv2 over IPv6, one delegated /80), the
 * dual-stack NLB with its IPv6 target group, and user data that unpacks into
 * the rendered kubeadm/sysctl/CNI files. The program modules are imported only
 * after the mocks are set. Each resource's dependency URNs (what the engine
 * orders creation by: explicit dependsOn and inputs) are recorded from the
 * mock monitor's registration requests.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, parseDocument } from 'yaml';
import { countsByType, MockRecorder, unwrapSecret, urnOf, value, type Recorded } from './pulumi-mocks.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAB_FILE = join(ROOT, 'stacks', 'Pulumi.aws-lab.yaml');
const LAB_TEXT = readFileSync(LAB_FILE, 'utf8');
/** Stands for the /56 Amazon assigns (documentation range). */
const VPC_IPV6 = '2001:db8:a100::/56';
/** What the mock load balancer's DNS name becomes in kubeadm files and outputs. */
const NLB_DNS = 'internal-api-nlb-0123abcdef.elb.us-east-2.amazonaws.com';
const SECRETS = { bootstrapToken: 'abcdef.0123456789abcdef', certificateKey: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' };

const harness = new MockRecorder(
  (args, inputs) => {
    const state: Record<string, unknown> = { ...inputs, arn: `arn:aws:mock:::${args.name}` };
    switch (args.type) {
      case 'aws:ec2/vpc:Vpc':
        state['ipv6CidrBlock'] = VPC_IPV6;
        break;
      case 'aws:lb/loadBalancer:LoadBalancer':
        // AWS's form, upper case included: the program uses it in lower case.
        state['dnsName'] = `internal-${args.name}-0123ABCDEF.elb.us-east-2.amazonaws.com`;
        break;
      case 'aws:ec2/launchTemplate:LaunchTemplate':
        state['latestVersion'] = 1;
        break;
      case 'aws:autoscaling/group:Group':
        state['name'] = `${args.name}-asg`;
        break;
      case 'aws:ec2/instance:Instance':
        return { id: `i-${Buffer.from(args.name).toString('hex').slice(0, 17)}`, state };
    }
    return { id: `${args.name}-id`, state };
  },
  (args) => (args.token === 'aws:ssm/getParameter:getParameter' ? { ...args.inputs, value: 'ami-0123456789abcdef0', type: 'String' } : args.inputs),
);

async function resetMocks(configText = LAB_TEXT, secrets: Partial<typeof SECRETS> = SECRETS): Promise<void> {
  await harness.reset('aws-lab', configText, secrets);
}

async function settle(outputs: Record<string, unknown>): Promise<void> {
  current = await harness.settle(outputs);
}

/** The Pulumi program's entry, as `pulumi up` runs it, on stacks/Pulumi.aws-lab.yaml. */
async function runProgram(): Promise<Record<string, unknown>> {
  await resetMocks();
  const program = (await import('../src/program/index.js')).default;
  const outputs = await program();
  await settle(outputs);
  return outputs;
}

/** The same program as a function, on a variant of the lab stack. */
async function runCluster(text: string): Promise<Awaited<ReturnType<typeof import('../src/cloud/aws/cluster.js')['buildCluster']>>> {
  await resetMocks(text);
  const { loadAwsStack } = await import('../src/cloud/aws/config.js');
  const { buildCluster } = await import('../src/cloud/aws/cluster.js');
  const { parseStack } = await import('../src/spec/load.js');
  const cluster = buildCluster(loadAwsStack(parseStack(LAB_FILE, text)), { ...SECRETS, caCertHashes: [] });
  await settle(cluster.outputs as unknown as Record<string, unknown>);
  return cluster;
}

/** The run the assertions look at: the last run, or the aws-lab program run (see `useLab`). */
let current: Recorded[] = [];
const of = (type: string): Recorded[] => current.filter((r) => r.type === type);
const one = (type: string, name: string): Recorded => {
  const r = current.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} named ${name}; have ${current.filter((x) => x.type === type).map((x) => x.name).join(', ')}`);
  return r;
};
const byId = (id: string): Recorded | undefined => current.find((r) => `${r.name}-id` === id);
/** "type name" of every resource a recorded one depends on */
const dependsOn = (r: Recorded): Set<string> => new Set(r.dependencies.map((u) => `${urnOf(u).type} ${urnOf(u).name}`));
const label = (r: Recorded): string => `${r.type} ${r.name}`;

function cloudConfig(base64: string): { text: string; files: Map<string, string> } {
  const text = gunzipSync(Buffer.from(base64, 'base64')).toString('utf8');
  expect(text.split('\n')[0]).toBe('#cloud-config');
  const doc = parseDocument(text, { uniqueKeys: true });
  expect(doc.errors).toEqual([]);
  const js = doc.toJS() as { write_files: Array<{ path: string; content: string }> };
  return { text, files: new Map(js.write_files.map((f) => [f.path, f.content])) };
}

describe('aws-lab under mocks', () => {
  // One run of the program entry on stacks/Pulumi.aws-lab.yaml serves every graph assertion.
  let lab: Recorded[] = [];
  let labOutputs: Record<string, unknown> = {};
  beforeAll(async () => {
    labOutputs = await runProgram();
    lab = current;
  });
  const useLab = (): void => {
    current = lab;
  };

  it('registers the expected resources (type and count)', async () => {
    useLab();
    const outputs = labOutputs;
    expect(countsByType(current)).toEqual({
      'aws:autoscaling/group:Group': 1,
      'aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway': 1,
      'aws:ec2/eip:Eip': 1,
      'aws:ec2/instance:Instance': 3,
      'aws:ec2/internetGateway:InternetGateway': 1,
      'aws:ec2/launchTemplate:LaunchTemplate': 4,
      'aws:ec2/natGateway:NatGateway': 1,
      'aws:ec2/route:Route': 4,
      'aws:ec2/routeTable:RouteTable': 2,
      'aws:ec2/routeTableAssociation:RouteTableAssociation': 6,
      'aws:ec2/securityGroup:SecurityGroup': 3,
      'aws:ec2/subnet:Subnet': 6,
      'aws:ec2/subnetCidrReservation:SubnetCidrReservation': 6,
      'aws:ec2/vpc:Vpc': 1,
      'aws:iam/instanceProfile:InstanceProfile': 1,
      'aws:iam/role:Role': 1,
      'aws:iam/rolePolicyAttachment:RolePolicyAttachment': 1,
      'aws:lb/listener:Listener': 1,
      'aws:lb/loadBalancer:LoadBalancer': 1,
      'aws:lb/targetGroup:TargetGroup': 1,
      'aws:lb/targetGroupAttachment:TargetGroupAttachment': 3,
      'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule': 7,
      'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule': 11,
      'flat6:aws:ApiEndpoint': 1,
      'flat6:aws:Network': 1,
      'flat6:aws:NodePool': 2,
      'pulumi:providers:aws': 1,
    });
    expect(current).toHaveLength(72);
    expect(one('pulumi:providers:aws', 'aws').inputs['region']).toBe('us-east-2');
    expect(await value(outputs['vpcIpv6Cidr'] as pulumi.Output<string>)).toBe(VPC_IPV6);
    expect(await value(outputs['apiEndpoint'] as pulumi.Output<string>)).toBe(`${NLB_DNS}:6443`);
    expect(await value(outputs['apiAddresses'] as pulumi.Output<string[]>)).toEqual(['2001:db8:a100:80::6443', '2001:db8:a100:81::6443', '2001:db8:a100:82::6443']);
    expect(await value(outputs['podSubnet'] as pulumi.Output<string>)).toBe('2001:db8:a100::/57');
    const subnets = await value(outputs['subnets'] as pulumi.Output<Array<{ tier: string; ipv6Cidr: string }>>);
    expect(subnets.filter((s) => s.tier === 'nodes').map((s) => s.ipv6Cidr)).toEqual(['2001:db8:a100::/64', '2001:db8:a100:1::/64', '2001:db8:a100:2::/64']);
    const commands = await value(outputs['kubeconfigCommands'] as pulumi.Output<string[]>);
    const cp0 = await value((outputs['controlPlanes'] as pulumi.Output<Array<{ instanceId: string }>>).apply((c) => c[0].instanceId));
    expect(commands.join('\n')).toContain(`--instance-ids ${cp0}`);
    expect(commands.join('\n')).toContain('/etc/kubernetes/admin.conf');
  });

  it('every node subnet is IPv6-only with DNS64 and resource-name AAAA records; edge subnets are dual-stack', () => {
    useLab();
    const subnets = of('aws:ec2/subnet:Subnet');
    const nodes = subnets.filter((s) => s.name.startsWith('network-node-'));
    const edges = subnets.filter((s) => s.name.startsWith('network-edge-'));
    expect(nodes.map((s) => s.inputs['availabilityZone']).sort()).toEqual(['us-east-2a', 'us-east-2b', 'us-east-2c']);
    for (const s of nodes) {
      expect(s.inputs).toMatchObject({
        ipv6Native: true,
        assignIpv6AddressOnCreation: true,
        enableDns64: true,
        enableResourceNameDnsAaaaRecordOnLaunch: true,
        privateDnsHostnameTypeOnLaunch: 'resource-name',
      });
      expect(s.inputs['cidrBlock']).toBeUndefined();
      expect(s.inputs['ipv6CidrBlock']).toMatch(/^2001:db8:a100:([0-9a-f]+:)?:\/64$/);
    }
    expect(edges).toHaveLength(3);
    for (const s of edges) {
      expect(s.inputs['ipv6Native']).toBeUndefined();
      expect(s.inputs['cidrBlock']).toMatch(/^10\.0\.0\.\d+\/28$/);
      expect(s.inputs['ipv6CidrBlock']).toMatch(/^2001:db8:a100:8[0-9a-f]::\/64$/);
      expect(s.inputs['enableDns64']).toBeUndefined();
    }
    expect(one('aws:ec2/vpc:Vpc', 'network-vpc').inputs).toMatchObject({ assignGeneratedIpv6CidrBlock: true, cidrBlock: '10.0.0.0/24' });
  });

  it('node subnets route ::/0 to the egress-only gateway and 64:ff9b::/96 to the NAT gateway; the edge to the internet gateway', () => {
    useLab();
    const routes = of('aws:ec2/route:Route');
    const assoc = of('aws:ec2/routeTableAssociation:RouteTableAssociation');
    const eigw = one('aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway', 'network-eigw');
    const igw = one('aws:ec2/internetGateway:InternetGateway', 'network-igw');
    const nat = one('aws:ec2/natGateway:NatGateway', 'network-nat64-a');
    expect(byId(nat.inputs['subnetId'])?.name).toBe('network-edge-a');
    expect(nat.inputs['connectivityType']).toBe('public');
    for (const s of of('aws:ec2/subnet:Subnet')) {
      const a = assoc.find((x) => x.inputs['subnetId'] === `${s.name}-id`);
      expect(a, `route table of ${s.name}`).toBeDefined();
      const table = routes.filter((r) => r.inputs['routeTableId'] === a!.inputs['routeTableId']);
      if (s.name.startsWith('network-node-')) {
        expect(table.find((r) => r.inputs['destinationIpv6CidrBlock'] === '::/0')?.inputs['egressOnlyGatewayId']).toBe(`${eigw.name}-id`);
        expect(table.find((r) => r.inputs['destinationIpv6CidrBlock'] === '64:ff9b::/96')?.inputs['natGatewayId']).toBe(`${nat.name}-id`);
        expect(table.some((r) => r.inputs['gatewayId'] !== undefined || r.inputs['destinationCidrBlock'] !== undefined)).toBe(false);
      } else {
        expect(table.find((r) => r.inputs['destinationIpv6CidrBlock'] === '::/0')?.inputs['gatewayId']).toBe(`${igw.name}-id`);
        expect(table.find((r) => r.inputs['destinationCidrBlock'] === '0.0.0.0/0')?.inputs['gatewayId']).toBe(`${igw.name}-id`);
      }
    }
  });

  describe('security groups', () => {
    const WORLD = new Set(['::/0', '0.0.0.0/0']);
    const ICMPV6_ERROR_TYPES = [1, 2, 3, 4];

    /** Every rule open to the whole internet must be an ICMPv6 error or something the stack asked for. */
    function worldRules(stack: { adminPrefixes: string[]; nodeEgress: string[] }): Recorded[] {
      const rules = [...of('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule'), ...of('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule')];
      const offending: Recorded[] = [];
      for (const r of rules) {
        const cidr = r.inputs['cidrIpv6'] ?? r.inputs['cidrIpv4'];
        // IPv6-only: no rule mentions IPv4 at all.
        expect(r.inputs['cidrIpv4'], r.name).toBeUndefined();
        if (!WORLD.has(cidr) && !(stack.adminPrefixes.includes(cidr) || stack.nodeEgress.includes(cidr))) continue;
        const ingress = r.type.includes('Ingress');
        const icmpError = r.inputs['ipProtocol'] === 'icmpv6' && ICMPV6_ERROR_TYPES.includes(r.inputs['fromPort']);
        const requested = ingress ? stack.adminPrefixes.includes(cidr) && r.inputs['ipProtocol'] === 'tcp' && r.inputs['fromPort'] === 6443 && r.inputs['toPort'] === 6443 : stack.nodeEgress.includes(cidr);
        if (!(ingress && icmpError) && !requested) offending.push(r);
      }
      return offending;
    }

    it('nothing is open to ::/0 or 0.0.0.0/0 beyond ICMPv6 errors and what the stack requests', () => {
      useLab();
      expect(worldRules({ adminPrefixes: [], nodeEgress: ['::/0'] })).toEqual([]);
      // The check itself bites: without the stack's nodeEgress, the ::/0 egress rule is reported.
      expect(worldRules({ adminPrefixes: [], nodeEgress: [] }).map((r) => r.name)).toEqual(['network-nodes-egress---_0']);
    });

    it('admin prefixes open only the API port, only on the load balancer', async () => {
      await runCluster(LAB_TEXT.replace('adminPrefixes: []', 'adminPrefixes: ["2001:db8:abcd::/48"]').replace('nodeEgress: ["::/0"]', 'nodeEgress: ["2001:db8:beef::/48"]'));
      expect(worldRules({ adminPrefixes: ['2001:db8:abcd::/48'], nodeEgress: ['2001:db8:beef::/48'] })).toEqual([]);
      const admin = of('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').filter((r) => r.inputs['cidrIpv6'] === '2001:db8:abcd::/48');
      expect(admin).toHaveLength(1);
      expect(admin[0].inputs).toMatchObject({ securityGroupId: 'network-api-id', ipProtocol: 'tcp', fromPort: 6443, toPort: 6443 });
      expect(of('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule').filter((r) => r.inputs['cidrIpv6'] === '::/0')).toEqual([]);
    });

    it('ICMPv6 reaches nodes (packet too big from anywhere, everything from the VPC); the cluster ports are narrow', () => {
      useLab();
      const ingress = of('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
      const nodes = ingress.filter((r) => r.inputs['securityGroupId'] === 'network-nodes-id');
      expect(nodes.find((r) => r.inputs['ipProtocol'] === 'icmpv6' && r.inputs['fromPort'] === 2 && r.inputs['cidrIpv6'] === '::/0')).toBeDefined();
      expect(nodes.find((r) => r.inputs['ipProtocol'] === 'icmpv6' && r.inputs['fromPort'] === -1 && r.inputs['cidrIpv6'] === VPC_IPV6)).toBeDefined();
      const rule = (sg: string, from: string, port: number): Recorded | undefined =>
        ingress.find((r) => r.inputs['securityGroupId'] === `network-${sg}-id` && r.inputs['referencedSecurityGroupId'] === `network-${from}-id` && r.inputs['fromPort'] === port);
      expect(rule('nodes', 'control-plane', 10250)?.inputs['toPort']).toBe(10250);
      expect(rule('control-plane', 'control-plane', 2379)?.inputs['toPort']).toBe(2380);
      expect(rule('control-plane', 'api', 6443)?.inputs['toPort']).toBe(6443);
      expect(rule('api', 'nodes', 6443)?.inputs['toPort']).toBe(6443);
      // The load balancer and the control plane take nothing from outside the cluster.
      expect(ingress.filter((r) => r.inputs['securityGroupId'] !== 'network-nodes-id' && r.inputs['cidrIpv6'] !== undefined)).toEqual([]);
    });
  });

  it('launch templates: Nitro types, IMDSv2 over IPv6, one IPv6 address and one delegated /80, resource names; user data secret', async () => {
    useLab();
    const { checkInstanceType } = await import('../src/cloud/aws/instance-types.js');
    const lts = of('aws:ec2/launchTemplate:LaunchTemplate');
    expect(lts).toHaveLength(4);
    for (const lt of lts) {
      expect(checkInstanceType(lt.inputs['instanceType']).ok).toBe(true);
      expect(lt.inputs['metadataOptions']).toMatchObject({ httpEndpoint: 'enabled', httpTokens: 'required', httpProtocolIpv6: 'enabled' });
      expect(lt.inputs['privateDnsNameOptions']).toMatchObject({ hostnameType: 'resource-name', enableResourceNameDnsAaaaRecord: true });
      const ni = lt.inputs['networkInterfaces'];
      expect(ni).toHaveLength(1);
      expect(ni[0].ipv6PrefixCount).toBe(1);
      expect((ni[0].ipv6AddressCount ?? ni[0].ipv6Addresses.length) as number).toBe(1);
      expect(lt.inputs['imageId']).toBe('ami-0123456789abcdef0');
      expect(lt.secrets).toContain('userData');
    }
    // Control planes: pinned addresses = load balancer targets.
    const pinned = lts.filter((l) => l.name.startsWith('control-plane-')).map((l) => l.inputs['networkInterfaces'][0].ipv6Addresses[0]);
    expect(pinned).toEqual(['2001:db8:a100::10', '2001:db8:a100:1::11', '2001:db8:a100:2::12']);
    expect(of('aws:lb/targetGroupAttachment:TargetGroupAttachment').map((a) => a.inputs['targetId'])).toEqual(pinned);
    const asg = one('aws:autoscaling/group:Group', 'workers-general-asg');
    expect(asg.inputs).toMatchObject({ minSize: 3, maxSize: 6, desiredCapacity: 3 });
    // a new launch template version never rolls joined workers by itself (the bootstrap token expires)
    expect(asg.inputs['instanceRefresh']).toBeUndefined();
    expect(asg.inputs['vpcZoneIdentifiers']).toEqual(['network-node-a-id', 'network-node-b-id', 'network-node-c-id']);
  });

  it('the API load balancer is internal, dual-stack, in the edge subnets, with an IPv6 target group on 6443', () => {
    useLab();
    const nlb = one('aws:lb/loadBalancer:LoadBalancer', 'api-nlb');
    expect(nlb.inputs).toMatchObject({ loadBalancerType: 'network', internal: true, ipAddressType: 'dualstack' });
    expect(nlb.inputs['subnetMappings']).toEqual([
      { subnetId: 'network-edge-a-id', ipv6Address: '2001:db8:a100:80::6443' },
      { subnetId: 'network-edge-b-id', ipv6Address: '2001:db8:a100:81::6443' },
      { subnetId: 'network-edge-c-id', ipv6Address: '2001:db8:a100:82::6443' },
    ]);
    const tg = one('aws:lb/targetGroup:TargetGroup', 'api-apiservers');
    expect(tg.inputs).toMatchObject({ ipAddressType: 'ipv6', targetType: 'ip', protocol: 'TCP', port: 6443 });
    expect(tg.inputs['healthCheck']).toMatchObject({ enabled: true, protocol: 'HTTPS', path: '/readyz' });
    const listener = one('aws:lb/listener:Listener', 'api-tcp');
    expect(listener.inputs).toMatchObject({ loadBalancerArn: 'arn:aws:mock:::api-nlb', port: 6443, protocol: 'TCP' });
    expect(listener.inputs['defaultActions']).toEqual([{ type: 'forward', targetGroupArn: 'arn:aws:mock:::api-apiservers' }]);
  });

  describe('boot order', () => {
    /** What every machine must wait for: NAT64, every route and association, the control planes' reservations, the API listener. */
    function bootNeeds(): string[] {
      return [
        ...of('aws:ec2/natGateway:NatGateway'),
        ...of('aws:ec2/route:Route'),
        ...of('aws:ec2/routeTableAssociation:RouteTableAssociation'),
        ...of('aws:ec2/subnetCidrReservation:SubnetCidrReservation').filter((r) => r.name.startsWith('network-reserve-cp')),
        one('aws:lb/listener:Listener', 'api-tcp'),
      ].map(label);
    }
    function missing(): Record<string, string[]> {
      const needs = bootNeeds();
      const machines = [...of('aws:ec2/instance:Instance'), ...of('aws:autoscaling/group:Group')];
      expect(machines.length).toBeGreaterThan(0);
      return Object.fromEntries(machines.map((m) => [label(m), needs.filter((n) => !dependsOn(m).has(n))]));
    }

    it('no instance or auto scaling group is created before NAT64, the routes, the route table associations, the reservations and the API listener', () => {
      useLab();
      expect(bootNeeds()).toHaveLength(1 + 4 + 6 + 3 + 1);
      const gaps = missing();
      expect(Object.keys(gaps)).toHaveLength(4);
      for (const [machine, absent] of Object.entries(gaps)) expect(absent, machine).toEqual([]);
      // The recorded dependencies are the resource's own, not everything upstream:
      // a launch template needs none of these.
      const lt = one('aws:ec2/launchTemplate:LaunchTemplate', 'control-plane-cp0');
      expect(dependsOn(lt).has('aws:ec2/natGateway:NatGateway network-nat64-a')).toBe(false);
      expect(dependsOn(lt).has('aws:ec2/subnet:Subnet network-node-a')).toBe(true);
    });

    it('with a NAT gateway per zone, every machine waits for all of them and their routes', async () => {
      await runCluster(LAB_TEXT.replace('natGateway: single ', 'natGateway: per-zone '));
      expect(of('aws:ec2/natGateway:NatGateway')).toHaveLength(3);
      expect(of('aws:ec2/route:Route')).toHaveLength(8);
      for (const [machine, absent] of Object.entries(missing())) expect(absent, machine).toEqual([]);
    });
  });

  it('every pinned address (control planes, the load balancer in each zone) has an explicit reservation in its subnet, made before its users', () => {
    useLab();
    const reservations = of('aws:ec2/subnetCidrReservation:SubnetCidrReservation');
    const cps = of('aws:ec2/launchTemplate:LaunchTemplate')
      .filter((l) => l.name.startsWith('control-plane-'))
      .map((l) => ({ address: l.inputs['networkInterfaces'][0].ipv6Addresses[0] as string, subnetId: l.inputs['networkInterfaces'][0].subnetId as string }));
    const nlb = one('aws:lb/loadBalancer:LoadBalancer', 'api-nlb');
    const lbs = (nlb.inputs['subnetMappings'] as Array<{ subnetId: string; ipv6Address: string }>).map((m) => ({ address: m.ipv6Address, subnetId: m.subnetId }));
    const pinned = [...cps, ...lbs];
    expect(pinned).toHaveLength(6);
    for (const p of pinned) {
      const r = reservations.filter((x) => x.inputs['cidrBlock'] === `${p.address}/128`);
      expect(r, p.address).toHaveLength(1);
      expect(r[0].inputs).toMatchObject({ reservationType: 'explicit', subnetId: p.subnetId });
    }
    expect(reservations).toHaveLength(pinned.length);
    // The load balancer and the NAT gateway (the other user of edge subnets) come after them.
    const edge = reservations.filter((r) => r.name.startsWith('network-reserve-api-')).map(label);
    expect(edge).toHaveLength(3);
    expect(edge.filter((e) => !dependsOn(nlb).has(e))).toEqual([]);
    expect(dependsOn(one('aws:ec2/natGateway:NatGateway', 'network-nat64-a')).has('aws:ec2/subnetCidrReservation:SubnetCidrReservation network-reserve-api-a')).toBe(true);
  });

  it('the API endpoint is the load balancer\'s DNS name; the certificate names it and every zone\'s address', () => {
    useLab();
    const init = cloudConfig(unwrapSecret(one('aws:ec2/launchTemplate:LaunchTemplate', 'control-plane-cp0').inputs['userData']).value as string);
    const docs = parseAllDocuments(init.files.get('/etc/flat6/kubeadm.yaml')!);
    if (!Array.isArray(docs)) throw new Error('no kubeadm documents');
    const cc = docs.map((d) => d.toJS() as Record<string, any>).find((d) => d['kind'] === 'ClusterConfiguration')!;
    expect(cc['controlPlaneEndpoint']).toBe(`${NLB_DNS}:6443`);
    expect(cc['apiServer']['certSANs']).toEqual([
      '2001:db8:a100:80::6443',
      '2001:db8:a100::10',
      '2001:db8:a100:1::11',
      '2001:db8:a100:2::12',
      NLB_DNS,
      '2001:db8:a100:81::6443',
      '2001:db8:a100:82::6443',
    ]);
    // Every node's boot script waits for that name to resolve before kubeadm.
    for (const lt of of('aws:ec2/launchTemplate:LaunchTemplate')) {
      const { files } = cloudConfig(unwrapSecret(lt.inputs['userData']).value as string);
      expect(JSON.parse(files.get('/etc/flat6/aws-boot.json')!).apiEndpoint, lt.name).toEqual({ host: NLB_DNS, port: 6443 });
    }
  });

  it('user data unpacks to cloud-config with the rendered kubeadm, sysctl and CNI files pointing at the load balancer', () => {
    useLab();
    for (const lt of of('aws:ec2/launchTemplate:LaunchTemplate')) {
      const { files } = cloudConfig(unwrapSecret(lt.inputs['userData']).value as string);
      expect(files.get('/etc/sysctl.d/99-flat6.conf')).toContain('net.ipv6.conf.all.forwarding = 1');
      const cni = JSON.parse(files.get('/etc/cni/net.d/10-flat6.conflist')!);
      expect(cni.plugins.map((x: { type: string }) => x.type)).toContain('ptp');
      expect(cni.plugins.find((x: { type: string }) => x.type === 'ptp').ipam.ranges[0][0].subnet).toMatch(/\/80$/);
      const docs = parseAllDocuments(files.get('/etc/flat6/kubeadm.yaml')!);
      if (!Array.isArray(docs)) throw new Error('no kubeadm documents');
      const kinds = docs.map((d) => d.toJS() as Record<string, any>);
      const endpoint =
        kinds.find((d) => d['kind'] === 'ClusterConfiguration')?.['controlPlaneEndpoint'] ??
        kinds.find((d) => d['kind'] === 'JoinConfiguration')?.['discovery']['bootstrapToken']['apiServerEndpoint'];
      expect(endpoint).toBe(`${NLB_DNS}:6443`);
      expect(files.has('/etc/netplan/60-flat6.yaml')).toBe(false);
      const token = kinds.find((d) => d['kind'] === 'JoinConfiguration')?.['discovery']['bootstrapToken']['token'] ?? kinds.find((d) => d['kind'] === 'InitConfiguration')?.['bootstrapTokens'][0]['token'];
      expect(token).toBe(SECRETS.bootstrapToken);
    }
  });

  it('scale: 3 and 3,000 workers create the same resources', async () => {
    const counts: Array<Record<string, number>> = [];
    const desired: number[] = [];
    const workerUserData: string[] = [];
    for (const size of [3, 3000]) {
      const text = LAB_TEXT.replace('        size: 3\n        maxSize: 6', `        size: ${size}\n        maxSize: ${size}`);
      expect(text).not.toBe(LAB_TEXT);
      const cluster = await runCluster(text);
      counts.push(countsByType(current));
      desired.push(one('aws:autoscaling/group:Group', 'workers-general-asg').inputs['desiredCapacity']);
      workerUserData.push(unwrapSecret(one('aws:ec2/launchTemplate:LaunchTemplate', 'workers-general-lt').inputs['userData']).value as string);
      // The user data Pulumi stores holds the bootstrap token: secret in every pool.
      for (const pool of [cluster.controlPlane, ...cluster.workerPools]) {
        for (const u of pool.userData) expect(await pulumi.isSecret(u)).toBe(true);
      }
    }
    expect(desired).toEqual([3, 3000]);
    expect(counts[1]).toEqual(counts[0]);
    // Scaling a pool does not change its user data (a new launch template version for nothing).
    expect(workerUserData[1]).toBe(workerUserData[0]);
  });

  describe('clear errors, nothing registered', () => {
    const failure = (stack: string, configText: string, secrets: Partial<typeof SECRETS> = SECRETS): Promise<string> => harness.failure(stack, configText, secrets);

    it('a bare-metal stack is refused with its file, line and fix', async () => {
      const metal = readFileSync(join(ROOT, 'stacks', 'Pulumi.metal.yaml'), 'utf8');
      const msg = await failure('metal', metal);
      expect(msg).toMatch(/Pulumi\.metal\.yaml:1:1: error NO_CLOUD: stack metal is a bare-metal stack \(no "flat6:aws" or "flat6:oci"/);
      expect(msg).toContain('flat6 render --stack metal');
    });

    it('missing bootstrap secrets say how to set them', async () => {
      const msg = await failure('aws-lab', LAB_TEXT, {});
      expect(msg).toContain('pulumi config set --secret flat6:bootstrapToken');
      expect(msg).toContain('pulumi config set --secret flat6:certificateKey');
    });

    it('malformed bootstrap secrets are refused', async () => {
      const msg = await failure('aws-lab', LAB_TEXT, { ...SECRETS, bootstrapToken: 'not-a-token' });
      // the secrets check names the field and the form it must have
      expect(msg).toMatch(/bootstrapToken\b[^\n]*must/);
      expect(msg).toContain('[a-z0-9]{6}');
    });

    it('configuration Pulumi passed that differs from the stack file is refused', async () => {
      const msg = await failure('aws-lab', LAB_TEXT.replace('name: aws-lab', 'name: other-lab'));
      expect(msg).toContain('flat6:cluster.name');
      expect(msg).toContain('--config-file');
    });

    it('the stack file the program reads reports problems at their line', async () => {
      const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { readProgramStack } = await import('../src/cloud/select.js');
      const { Flat6Error } = await import('../src/core/diagnostics.js');
      const dir = mkdtempSync(join(tmpdir(), `flat6-cloud-${process.pid}-`));
      try {
        const text = LAB_TEXT.replace('instanceType: t3.medium   # Nitro', 'instanceType: m4.large   # Nitro');
        mkdirSync(join(dir, 'stacks'));
        writeFileSync(join(dir, 'stacks', 'Pulumi.aws-lab.yaml'), text);
        const config = (parse(text) as { config: Record<string, unknown> }).config;
        let error: unknown;
        try {
          readProgramStack(dir, 'aws-lab', { cluster: config['flat6:cluster'], aws: config['flat6:aws'], oci: undefined });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(Flat6Error);
        const d = (error as InstanceType<typeof Flat6Error>).diagnostics.find((x) => x.code === 'AWS_INSTANCE_TYPE')!;
        expect(d.location).toEqual({ file: join(dir, 'stacks', 'Pulumi.aws-lab.yaml'), line: text.slice(0, text.indexOf('m4.large')).split('\n').length, col: expect.any(Number) });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
