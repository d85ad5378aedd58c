/**
 * The VPC of an IPv6-only cluster: Amazon-provided /56, IPv6-only node subnets
 * with DNS64, small dual-stack edge subnets for the API load balancer and the
 * NAT gateway, egress-only and NAT64 routes, and least-privilege security
 * groups. Thin: the addresses come from layout.ts, computed inside `.apply`
 * once AWS reveals the /56.
 *
 * Resource names are stable keys (zone letter, role), never display names, so
 * renaming the cluster changes tags, not resources.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { formatPrefix } from '../../core/ip.js';
import type { NetworkPolicyArgs } from '../shared/args.js';
import { ICMPV6_ERRORS, prefixKey } from '../shared/security.js';
import type { NatGatewayMode } from './config.js';
import { formatIpv4Prefix, ipv4Subnet, parseIpv4Prefix, pinnedAddresses, vpcLayout, zonePosition, EDGE_IPV4_LENGTH, type VpcLayout } from './layout.js';

// Shared with OCI; re-exported for AWS callers.
export { ICMPV6_ERRORS, prefixKey };

/** IPv4 prefix of NAT64 (RFC 6052 well-known prefix), which the NAT gateway translates. */
export const NAT64_PREFIX = '64:ff9b::/96';

export interface NetworkArgs extends NetworkPolicyArgs {
  readonly region: string;
  /** zones in stack order; subnets follow each zone's letter */
  readonly zones: readonly string[];
  /** the IPv4 CIDR AWS requires; only edge subnets use it */
  readonly ipv4Cidr: string;
  readonly natGateway: NatGatewayMode;
  readonly controlPlaneCount: number;
}

export interface ZoneSubnets {
  zone: string;
  node: aws.ec2.Subnet;
  edge: aws.ec2.Subnet;
}

/** The reservation of one pinned address (layout.ts pinnedAddresses). */
export interface PinnedReservation {
  /** "cp<k>" or "api-<zone letter>", as in the layout */
  key: string;
  zone: string;
  tier: 'nodes' | 'edge';
  reservation: aws.ec2.SubnetCidrReservation;
}

export class Network extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  /** the /56 Amazon assigned */
  readonly ipv6Cidr: pulumi.Output<string>;
  /** every address decision, once the /56 is known */
  readonly layout: pulumi.Output<VpcLayout>;
  readonly subnets: ZoneSubnets[];
  readonly natGateways: aws.ec2.NatGateway[];
  /** every route of the VPC (node and edge tiers) */
  readonly routes: aws.ec2.Route[] = [];
  /** every subnet's route table association */
  readonly routeTableAssociations: aws.ec2.RouteTableAssociation[] = [];
  /** an explicit subnet CIDR reservation of each pinned address (control planes, load balancer) */
  readonly reservations: PinnedReservation[];
  /** on every node: pod network, kubelet, ICMPv6, egress */
  readonly nodeSecurityGroup: aws.ec2.SecurityGroup;
  /** on control-plane nodes: API server behind the load balancer, etcd */
  readonly controlPlaneSecurityGroup: aws.ec2.SecurityGroup;
  /** on the API load balancer */
  readonly apiSecurityGroup: aws.ec2.SecurityGroup;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flat6:aws:Network', name, {}, opts);
    const child = { parent: this };
    const display = (what: string): { Name: string } => ({ Name: `${args.clusterName}-${what}` });
    const letter = (zone: string): string => zone.slice(-1);
    // Fail before creating anything if the zones or the IPv4 CIDR cannot work.
    const ipv4 = parseIpv4Prefix(args.ipv4Cidr);
    for (const z of args.zones) zonePosition(z, args.region);

    this.vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.ipv4Cidr,
        assignGeneratedIpv6CidrBlock: true,
        enableDnsSupport: true,
        enableDnsHostnames: true,
        tags: display('vpc'),
      },
      child,
    );
    this.ipv6Cidr = this.vpc.ipv6CidrBlock;
    const input = { region: args.region, zones: args.zones, ipv4Cidr: args.ipv4Cidr, controlPlaneCount: args.controlPlaneCount };
    this.layout = this.vpc.ipv6CidrBlock.apply((cidr) => vpcLayout(cidr, input));
    const vpcId = this.vpc.id;

    this.subnets = args.zones.map((zone, i): ZoneSubnets => {
      const l = letter(zone);
      const node = new aws.ec2.Subnet(
        `${name}-node-${l}`,
        {
          vpcId,
          availabilityZone: zone,
          ipv6Native: true,
          ipv6CidrBlock: this.layout.apply((x) => formatPrefix(x.zones[i].nodeSubnet)),
          assignIpv6AddressOnCreation: true,
          enableDns64: true,
          enableResourceNameDnsAaaaRecordOnLaunch: true,
          privateDnsHostnameTypeOnLaunch: 'resource-name',
          tags: display(`nodes-${zone}`),
        },
        child,
      );
      const edge = new aws.ec2.Subnet(
        `${name}-edge-${l}`,
        {
          vpcId,
          availabilityZone: zone,
          cidrBlock: formatIpv4Prefix(ipv4Subnet(ipv4, EDGE_IPV4_LENGTH, zonePosition(zone, args.region))),
          ipv6CidrBlock: this.layout.apply((x) => formatPrefix(x.zones[i].edgeSubnet)),
          assignIpv6AddressOnCreation: true,
          mapPublicIpOnLaunch: false,
          tags: display(`edge-${zone}`),
        },
        child,
      );
      return { zone, node, edge };
    });

    // Pinned addresses: reserved (explicit: AWS assigns nothing from them by
    // itself, only what names them) before anything that takes addresses
    // automatically is created in their subnets. Keys are layout keys (cp<k>,
    // api-<zone letter>), stable when zones or control planes are added.
    const zoneIndex = new Map(args.zones.map((z, i) => [z, i]));
    const pinnedKeys = [
      ...Array.from({ length: args.controlPlaneCount }, (_, k) => ({ key: `cp${k}`, zone: args.zones[k % args.zones.length], tier: 'nodes' as const })),
      ...args.zones.map((zone) => ({ key: `api-${letter(zone)}`, zone, tier: 'edge' as const })),
    ];
    this.reservations = pinnedKeys.map(({ key, zone, tier }): PinnedReservation => {
      const pinned = this.layout.apply((l) => {
        const p = pinnedAddresses(l).find((x) => x.key === key);
        if (!p || p.zone !== zone || p.tier !== tier) throw new Error(`layout has no pinned address ${key} in the ${tier} subnet of ${zone}`);
        return p;
      });
      const s = this.subnets[zoneIndex.get(zone)!];
      const reservation = new aws.ec2.SubnetCidrReservation(
        `${name}-reserve-${key}`,
        {
          subnetId: tier === 'nodes' ? s.node.id : s.edge.id,
          cidrBlock: pinned.apply((p) => formatPrefix(p.reservation)),
          reservationType: 'explicit',
          description: pinned.apply((p) => `flat6 ${args.clusterName}: pinned address of the ${p.what}`),
        },
        child,
      );
      return { key, zone, tier, reservation };
    });
    const edgeReservationsOf = (zone: string): aws.ec2.SubnetCidrReservation[] =>
      this.reservations.filter((r) => r.tier === 'edge' && r.zone === zone).map((r) => r.reservation);

    // Gateways: IPv6 egress without ingress for nodes; the internet gateway for
    // the edge tier (NAT gateway's public side).
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId, tags: display('igw') }, child);
    const eigw = new aws.ec2.EgressOnlyInternetGateway(`${name}-eigw`, { vpcId, tags: display('eigw') }, child);
    const natZones = args.natGateway === 'per-zone' ? this.subnets : this.subnets.slice(0, 1);
    this.natGateways = natZones.map((s) => {
      const l = letter(s.zone);
      const eip = new aws.ec2.Eip(`${name}-nat-${l}`, { domain: 'vpc', tags: display(`nat64-${s.zone}`) }, { ...child, dependsOn: [igw] });
      return new aws.ec2.NatGateway(
        `${name}-nat64-${l}`,
        { allocationId: eip.id, subnetId: s.edge.id, connectivityType: 'public', tags: display(`nat64-${s.zone}`) },
        // after the reservation of the load balancer's address in its subnet
        { ...child, dependsOn: [igw, ...edgeReservationsOf(s.zone)] },
      );
    });

    // Edge tier: both families to the internet gateway.
    const route = (key: string, a: aws.ec2.RouteArgs): void => {
      this.routes.push(new aws.ec2.Route(key, a, child));
    };
    const associate = (key: string, a: aws.ec2.RouteTableAssociationArgs): void => {
      this.routeTableAssociations.push(new aws.ec2.RouteTableAssociation(key, a, child));
    };
    const edgeTable = new aws.ec2.RouteTable(`${name}-edge`, { vpcId, tags: display('edge') }, child);
    route(`${name}-edge-default-ipv6`, { routeTableId: edgeTable.id, destinationIpv6CidrBlock: '::/0', gatewayId: igw.id });
    route(`${name}-edge-default-ipv4`, { routeTableId: edgeTable.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });
    for (const s of this.subnets) {
      associate(`${name}-edge-${letter(s.zone)}`, { subnetId: s.edge.id, routeTableId: edgeTable.id });
    }

    // Node tier: IPv6 out through the egress-only gateway, IPv4-only
    // destinations (DNS64 answers in 64:ff9b::/96) through NAT64.
    const nodeTables = natZones.map((s, i) => {
      const key = args.natGateway === 'per-zone' ? `${name}-nodes-${letter(s.zone)}` : `${name}-nodes`;
      const table = new aws.ec2.RouteTable(key, { vpcId, tags: display(args.natGateway === 'per-zone' ? `nodes-${s.zone}` : 'nodes') }, child);
      route(`${key}-default-ipv6`, { routeTableId: table.id, destinationIpv6CidrBlock: '::/0', egressOnlyGatewayId: eigw.id });
      route(`${key}-nat64`, { routeTableId: table.id, destinationIpv6CidrBlock: NAT64_PREFIX, natGatewayId: this.natGateways[i].id });
      return table;
    });
    this.subnets.forEach((s, i) => {
      const table = args.natGateway === 'per-zone' ? nodeTables[i] : nodeTables[0];
      associate(`${name}-nodes-${letter(s.zone)}`, { subnetId: s.node.id, routeTableId: table.id });
    });

    // Security groups. AWS's default allow-all egress rule is removed on
    // creation; every rule below is explicit.
    const sg = (key: string, description: string): aws.ec2.SecurityGroup =>
      new aws.ec2.SecurityGroup(`${name}-${key}`, { vpcId, description, tags: display(key) }, child);
    this.nodeSecurityGroup = sg('nodes', 'flat6 nodes: pod network, kubelet, ICMPv6');
    this.controlPlaneSecurityGroup = sg('control-plane', 'flat6 control plane: API server, etcd');
    this.apiSecurityGroup = sg('api', 'flat6 API load balancer');
    const nodes = this.nodeSecurityGroup.id;
    const cps = this.controlPlaneSecurityGroup.id;
    const api = this.apiSecurityGroup.id;
    const ingress = (key: string, a: aws.vpc.SecurityGroupIngressRuleArgs): void => {
      new aws.vpc.SecurityGroupIngressRule(`${name}-${key}`, a, child);
    };
    const egress = (key: string, a: aws.vpc.SecurityGroupEgressRuleArgs): void => {
      new aws.vpc.SecurityGroupEgressRule(`${name}-${key}`, a, child);
    };
    const vpcIpv6 = this.vpc.ipv6CidrBlock;

    // Nodes. Pods take addresses from their node's /80, so a security group
    // sees pod traffic as node traffic: the pod network is every protocol
    // between cluster nodes (Kubernetes requires pod-to-pod reachability).
    ingress('nodes-from-nodes', { securityGroupId: nodes, referencedSecurityGroupId: nodes, ipProtocol: '-1', description: 'pod network and node-to-node traffic inside the cluster' });
    ingress('nodes-kubelet-from-control-plane', { securityGroupId: nodes, referencedSecurityGroupId: cps, ipProtocol: 'tcp', fromPort: 10250, toPort: 10250, description: 'kubelet API from control planes' });
    ingress('nodes-icmpv6-vpc', { securityGroupId: nodes, cidrIpv6: vpcIpv6, ipProtocol: 'icmpv6', fromPort: -1, toPort: -1, description: 'ICMPv6 inside the VPC (neighbour discovery, echo, errors)' });
    for (const t of ICMPV6_ERRORS) {
      ingress(`nodes-icmpv6-${t.name}`, { securityGroupId: nodes, cidrIpv6: '::/0', ipProtocol: 'icmpv6', fromPort: t.type, toPort: -1, description: `ICMPv6 ${t.name} from any router on the path (RFC 4890)` });
    }
    egress('nodes-to-nodes', { securityGroupId: nodes, referencedSecurityGroupId: nodes, ipProtocol: '-1', description: 'pod network and node-to-node traffic inside the cluster' });
    egress('nodes-to-api', { securityGroupId: nodes, referencedSecurityGroupId: api, ipProtocol: 'tcp', fromPort: args.apiPort, toPort: args.apiPort, description: 'Kubernetes API through the load balancer' });
    egress('nodes-icmpv6-vpc', { securityGroupId: nodes, cidrIpv6: vpcIpv6, ipProtocol: 'icmpv6', fromPort: -1, toPort: -1, description: 'ICMPv6 inside the VPC' });
    args.nodeEgress.forEach((prefix) => {
      egress(`nodes-egress-${prefixKey(prefix)}`, { securityGroupId: nodes, cidrIpv6: prefix, ipProtocol: '-1', description: `egress the stack allows (flat6:aws.nodeEgress ${prefix})` });
    });

    // Control planes.
    ingress('control-plane-api-from-lb', { securityGroupId: cps, referencedSecurityGroupId: api, ipProtocol: 'tcp', fromPort: args.apiServerPort, toPort: args.apiServerPort, description: 'API server from the load balancer (traffic and health checks)' });
    ingress('control-plane-api-from-nodes', { securityGroupId: cps, referencedSecurityGroupId: nodes, ipProtocol: 'tcp', fromPort: args.apiServerPort, toPort: args.apiServerPort, description: 'API server from nodes and pods (the kubernetes Service endpoints)' });
    ingress('control-plane-etcd', { securityGroupId: cps, referencedSecurityGroupId: cps, ipProtocol: 'tcp', fromPort: 2379, toPort: 2380, description: 'etcd clients and peers between control planes' });
    egress('control-plane-etcd', { securityGroupId: cps, referencedSecurityGroupId: cps, ipProtocol: 'tcp', fromPort: 2379, toPort: 2380, description: 'etcd clients and peers between control planes' });
    egress('control-plane-kubelet', { securityGroupId: cps, referencedSecurityGroupId: nodes, ipProtocol: 'tcp', fromPort: 10250, toPort: 10250, description: 'kubelet API on every node' });

    // API load balancer.
    ingress('api-from-nodes', { securityGroupId: api, referencedSecurityGroupId: nodes, ipProtocol: 'tcp', fromPort: args.apiPort, toPort: args.apiPort, description: 'Kubernetes API from nodes' });
    args.adminPrefixes.forEach((prefix) => {
      ingress(`api-from-admin-${prefixKey(prefix)}`, { securityGroupId: api, cidrIpv6: prefix, ipProtocol: 'tcp', fromPort: args.apiPort, toPort: args.apiPort, description: `Kubernetes API from an admin prefix (flat6:aws.adminPrefixes ${prefix})` });
    });
    egress('api-to-control-plane', { securityGroupId: api, referencedSecurityGroupId: cps, ipProtocol: 'tcp', fromPort: args.apiServerPort, toPort: args.apiServerPort, description: 'forward to API servers and health-check them' });

    this.registerOutputs({ vpcId, ipv6Cidr: this.ipv6Cidr });
  }

  /**
   * What must exist before a node boots: the NAT64 gateways, every route and
   * route table association (a node installs packages through NAT64 and the
   * egress-only gateway at first boot, and reads its user data only once),
   * and the reservations of the control planes' pinned addresses (so no node
   * that takes addresses automatically can get one of them first).
   */
  get nodeBootDependencies(): pulumi.Resource[] {
    return [
      ...this.natGateways,
      ...this.routes,
      ...this.routeTableAssociations,
      ...this.reservations.filter((r) => r.tier === 'nodes').map((r) => r.reservation),
    ];
  }

  /** The reservations of the load balancer's pinned addresses, zone by zone. */
  get apiReservations(): aws.ec2.SubnetCidrReservation[] {
    return this.reservations.filter((r) => r.tier === 'edge').map((r) => r.reservation);
  }
}
