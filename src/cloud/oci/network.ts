/**
 * The VCN of an IPv6 Kubernetes cluster on OCI: an Oracle-allocated /56, one
 * regional dual-stack node subnet and one edge subnet (the IPv4 on them is
 * what OCI puts on every VNIC, never a Kubernetes address), an internet
 * gateway with ::/0 routes, an empty security list in place of the VCN's
 * default one (which opens SSH to the world), and network security groups that
 * allow ICMPv6 and only the ports Kubernetes needs. Thin: the addresses come
 * from layout.ts inside `.apply` once OCI reveals the /56.
 *
 * Resource names are stable keys (role), never display names.
 */
import * as oci from '@pulumi/oci';
import * as pulumi from '@pulumi/pulumi';
import { formatPrefix } from '../../core/ip.js';
import { formatIpv4Prefix } from '../shared/tiers.js';
import type { NetworkPolicyArgs } from '../shared/args.js';
import { ICMPV6_ERRORS, prefixKey } from '../shared/security.js';
import { vcnLayout, type LayoutInput, type VcnLayout } from './layout.js';

/** IANA protocol numbers as OCI security rules take them. */
export const PROTOCOL = { all: 'all', tcp: '6', udp: '17', icmpv6: '58' } as const;

/** adminPrefixes also reach the nodes on SSH. */
export interface NetworkArgs extends NetworkPolicyArgs {
  readonly compartmentId: string;
  readonly layoutInput: LayoutInput;
  readonly freeformTags: Record<string, string>;
}

/** One OCI security rule before it becomes a resource (also what the tests read). */
export type GroupRole = 'nodes' | 'control-plane' | 'api' | 'nat64';

export interface RuleSpec {
  key: string;
  direction: 'INGRESS' | 'EGRESS';
  protocol: string;
  /** a CIDR, or another group by role */
  peer: { cidr: pulumi.Input<string> } | { nsg: GroupRole };
  ports?: { min: number; max: number };
  icmpType?: number;
  description: string;
}

export class Network extends pulumi.ComponentResource {
  readonly vcn: oci.core.Vcn;
  /** the /56 Oracle allocated */
  readonly ipv6Cidr: pulumi.Output<string>;
  /** every address decision, once the /56 is known */
  readonly layout: pulumi.Output<VcnLayout>;
  readonly internetGateway: oci.core.InternetGateway;
  readonly nodeRouteTable: oci.core.RouteTable;
  readonly edgeRouteTable: oci.core.RouteTable;
  readonly securityList: oci.core.SecurityList;
  readonly nodeSubnet: oci.core.Subnet;
  readonly edgeSubnet: oci.core.Subnet;
  /** by role: nodes, control-plane, api, nat64 */
  readonly groups: Record<GroupRole, oci.core.NetworkSecurityGroup>;
  readonly rules: oci.core.NetworkSecurityGroupSecurityRule[] = [];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flat6:oci:Network', name, {}, opts);
    const child = { parent: this };
    const compartmentId = args.compartmentId;
    const tags = args.freeformTags;
    const display = (what: string): string => `${args.clusterName}-${what}`;

    this.vcn = new oci.core.Vcn(
      `${name}-vcn`,
      {
        compartmentId,
        cidrBlocks: [args.layoutInput.ipv4Cidr],
        isIpv6enabled: true,
        isOracleGuaAllocationEnabled: true,
        dnsLabel: 'flat6',
        displayName: display('vcn'),
        freeformTags: tags,
      },
      child,
    );
    this.ipv6Cidr = this.vcn.ipv6cidrBlocks.apply((blocks) => {
      const gua = (blocks ?? []).find((b) => b.endsWith('/56'));
      if (!gua) throw new Error(`the VCN has no Oracle-allocated /56 (IPv6 blocks: ${JSON.stringify(blocks)})`);
      return gua;
    });
    this.layout = this.ipv6Cidr.apply((cidr) => vcnLayout(cidr, args.layoutInput));
    const vcnId = this.vcn.id;

    this.internetGateway = new oci.core.InternetGateway(`${name}-igw`, { compartmentId, vcnId, enabled: true, displayName: display('igw'), freeformTags: tags }, child);
    const toIgw = (destination: string, description: string): oci.types.input.Core.RouteTableRouteRule => ({
      destination,
      destinationType: 'CIDR_BLOCK',
      networkEntityId: this.internetGateway.id,
      description,
    });
    // Nodes: IPv6 only (IPv4-only hosts through NAT64, whose prefix lies in the VCN: no route needed).
    this.nodeRouteTable = new oci.core.RouteTable(
      `${name}-nodes`,
      { compartmentId, vcnId, routeRules: [toIgw('::/0', 'IPv6 internet (inbound blocked by the network security groups)')], displayName: display('nodes'), freeformTags: tags },
      child,
    );
    // Edge: the NAT64 instance's IPv4 side needs 0.0.0.0/0 (its public IPv4 address).
    this.edgeRouteTable = new oci.core.RouteTable(
      `${name}-edge`,
      { compartmentId, vcnId, routeRules: [toIgw('::/0', 'IPv6 internet'), toIgw('0.0.0.0/0', 'IPv4 internet: the translated side of NAT64')], displayName: display('edge'), freeformTags: tags },
      child,
    );
    // An empty security list in place of the VCN's default one (SSH and ICMP from 0.0.0.0/0).
    this.securityList = new oci.core.SecurityList(`${name}-none`, { compartmentId, vcnId, ingressSecurityRules: [], egressSecurityRules: [], displayName: display('no-rules'), freeformTags: tags }, child);

    const subnet = (key: 'nodes' | 'edge', routeTable: oci.core.RouteTable): oci.core.Subnet =>
      new oci.core.Subnet(
        `${name}-${key}`,
        {
          compartmentId,
          vcnId,
          // Regional (no availabilityDomain): one subnet serves every domain.
          cidrBlock: this.layout.apply((l) => formatIpv4Prefix(key === 'nodes' ? l.nodeIpv4 : l.edgeIpv4)),
          ipv6cidrBlocks: [this.layout.apply((l) => formatPrefix(key === 'nodes' ? l.nodeSubnet : l.edgeSubnet))],
          routeTableId: routeTable.id,
          securityListIds: [this.securityList.id],
          // OCI's private flag forbids IPv6 internet access altogether; inbound is
          // closed by the network security groups (stateful) instead.
          prohibitInternetIngress: false,
          dnsLabel: key,
          displayName: display(key),
          freeformTags: tags,
        },
        child,
      );
    this.nodeSubnet = subnet('nodes', this.nodeRouteTable);
    this.edgeSubnet = subnet('edge', this.edgeRouteTable);

    const nsg = (key: string): oci.core.NetworkSecurityGroup => new oci.core.NetworkSecurityGroup(`${name}-${key}`, { compartmentId, vcnId, displayName: display(key), freeformTags: tags }, child);
    this.groups = { nodes: nsg('nodes'), 'control-plane': nsg('control-plane'), api: nsg('api'), nat64: nsg('nat64') };

    const vcnIpv6 = this.ipv6Cidr;
    const nat64Prefix = this.layout.apply((l) => formatPrefix(l.nat64Prefix));
    for (const [group, specs] of Object.entries(securityRules(args, vcnIpv6, nat64Prefix)) as Array<[GroupRole, RuleSpec[]]>) {
      for (const r of specs) this.rules.push(this.rule(name, group, r));
    }
    this.registerOutputs({ vcnId, ipv6Cidr: this.ipv6Cidr });
  }

  private rule(name: string, group: GroupRole, r: RuleSpec): oci.core.NetworkSecurityGroupSecurityRule {
    const peer = 'nsg' in r.peer ? { id: this.groups[r.peer.nsg].id, type: 'NETWORK_SECURITY_GROUP' } : { id: r.peer.cidr, type: 'CIDR_BLOCK' };
    const ports = r.ports ? { destinationPortRange: { min: r.ports.min, max: r.ports.max } } : undefined;
    const ingress = r.direction === 'INGRESS';
    return new oci.core.NetworkSecurityGroupSecurityRule(
      `${name}-${group}-${r.key}`,
      {
        networkSecurityGroupId: this.groups[group].id,
        direction: r.direction,
        protocol: r.protocol,
        stateless: false,
        description: r.description,
        ...(ingress ? { source: peer.id, sourceType: peer.type } : { destination: peer.id, destinationType: peer.type }),
        ...(r.protocol === PROTOCOL.tcp && ports ? { tcpOptions: ports } : {}),
        ...(r.protocol === PROTOCOL.udp && ports ? { udpOptions: ports } : {}),
        ...(r.icmpType !== undefined ? { icmpOptions: { type: r.icmpType } } : {}),
      },
      { parent: this },
    );
  }

  /** What must exist before a node boots: the routes (tables and subnets) and every security rule. */
  get nodeBootDependencies(): pulumi.Resource[] {
    return [this.nodeRouteTable, this.edgeRouteTable, this.nodeSubnet, this.edgeSubnet, ...this.rules];
  }
}

/**
 * Every security rule, by group. OCI rules are stateful: a reply needs no rule
 * of its own. Nothing is open to ::/0 or 0.0.0.0/0 inbound except the ICMPv6
 * errors a router on the path sends; the only IPv4 rule is the NAT64
 * instance's way out.
 */
export function securityRules(args: Pick<NetworkArgs, 'apiPort' | 'apiServerPort' | 'adminPrefixes' | 'nodeEgress'>, vcnIpv6: pulumi.Input<string>, nat64Prefix: pulumi.Input<string>): Record<GroupRole, RuleSpec[]> {
  const { tcp, udp, icmpv6, all } = PROTOCOL;
  const port = (p: number): { min: number; max: number } => ({ min: p, max: p });
  const icmpErrors = (): RuleSpec[] =>
    ICMPV6_ERRORS.map((t) => ({ key: `icmpv6-${t.name}`, direction: 'INGRESS' as const, protocol: icmpv6, peer: { cidr: '::/0' }, icmpType: t.type, description: `ICMPv6 ${t.name} from any router on the path (RFC 4890)` }));
  return {
    nodes: [
      // Pods take addresses from their node's /80, so a security group sees pod
      // traffic as node traffic: the pod network is every protocol between nodes.
      { key: 'from-nodes', direction: 'INGRESS', protocol: all, peer: { nsg: 'nodes' }, description: 'pod network and node-to-node traffic inside the cluster' },
      { key: 'kubelet-from-control-plane', direction: 'INGRESS', protocol: tcp, peer: { nsg: 'control-plane' }, ports: port(10250), description: 'kubelet API from control planes' },
      { key: 'icmpv6-vcn', direction: 'INGRESS', protocol: icmpv6, peer: { cidr: vcnIpv6 }, description: 'ICMPv6 inside the VCN (neighbour discovery, echo, errors)' },
      ...icmpErrors(),
      ...args.adminPrefixes.map((p): RuleSpec => ({ key: `ssh-from-${prefixKey(p)}`, direction: 'INGRESS', protocol: tcp, peer: { cidr: p }, ports: port(22), description: `SSH from an admin prefix (flat6:oci.adminPrefixes ${p})` })),
      { key: 'to-nodes', direction: 'EGRESS', protocol: all, peer: { nsg: 'nodes' }, description: 'pod network and node-to-node traffic inside the cluster' },
      { key: 'to-api', direction: 'EGRESS', protocol: tcp, peer: { nsg: 'api' }, ports: port(args.apiPort), description: 'Kubernetes API through the load balancer' },
      { key: 'icmpv6-vcn-out', direction: 'EGRESS', protocol: icmpv6, peer: { cidr: vcnIpv6 }, description: 'ICMPv6 inside the VCN' },
      { key: 'dns-udp', direction: 'EGRESS', protocol: udp, peer: { nsg: 'nat64' }, ports: port(53), description: 'DNS64 resolver' },
      { key: 'dns-tcp', direction: 'EGRESS', protocol: tcp, peer: { nsg: 'nat64' }, ports: port(53), description: 'DNS64 resolver (large answers)' },
      { key: 'to-nat64', direction: 'EGRESS', protocol: all, peer: { cidr: nat64Prefix }, description: 'IPv4-only hosts through NAT64' },
      ...args.nodeEgress.map((p): RuleSpec => ({ key: `egress-${prefixKey(p)}`, direction: 'EGRESS', protocol: all, peer: { cidr: p }, description: `egress the stack allows (flat6:oci.nodeEgress ${p})` })),
    ],
    'control-plane': [
      { key: 'api-from-lb', direction: 'INGRESS', protocol: tcp, peer: { nsg: 'api' }, ports: port(args.apiServerPort), description: 'API server from the load balancer (traffic and health checks)' },
      { key: 'api-from-nodes', direction: 'INGRESS', protocol: tcp, peer: { nsg: 'nodes' }, ports: port(args.apiServerPort), description: 'API server from nodes and pods (the kubernetes Service endpoints)' },
      { key: 'etcd', direction: 'INGRESS', protocol: tcp, peer: { nsg: 'control-plane' }, ports: { min: 2379, max: 2380 }, description: 'etcd clients and peers between control planes' },
      { key: 'etcd-out', direction: 'EGRESS', protocol: tcp, peer: { nsg: 'control-plane' }, ports: { min: 2379, max: 2380 }, description: 'etcd clients and peers between control planes' },
      { key: 'kubelet-out', direction: 'EGRESS', protocol: tcp, peer: { nsg: 'nodes' }, ports: port(10250), description: 'kubelet API on every node' },
    ],
    api: [
      { key: 'from-nodes', direction: 'INGRESS', protocol: tcp, peer: { nsg: 'nodes' }, ports: port(args.apiPort), description: 'Kubernetes API from nodes' },
      ...args.adminPrefixes.map((p): RuleSpec => ({ key: `from-admin-${prefixKey(p)}`, direction: 'INGRESS', protocol: tcp, peer: { cidr: p }, ports: port(args.apiPort), description: `Kubernetes API from an admin prefix (flat6:oci.adminPrefixes ${p})` })),
      { key: 'to-control-plane', direction: 'EGRESS', protocol: tcp, peer: { nsg: 'control-plane' }, ports: port(args.apiServerPort), description: 'forward to API servers and health-check them' },
    ],
    nat64: [
      { key: 'from-nodes', direction: 'INGRESS', protocol: all, peer: { nsg: 'nodes' }, description: 'DNS64 queries and traffic to the NAT64 prefix (translated to IPv4)' },
      { key: 'icmpv6-vcn', direction: 'INGRESS', protocol: icmpv6, peer: { cidr: vcnIpv6 }, description: 'ICMPv6 inside the VCN' },
      ...icmpErrors(),
      { key: 'ipv4-out', direction: 'EGRESS', protocol: all, peer: { cidr: '0.0.0.0/0' }, description: 'the translated side of NAT64 and DNS lookups (IPv4 internet)' },
      { key: 'ipv6-out', direction: 'EGRESS', protocol: all, peer: { cidr: '::/0' }, description: 'DNS lookups over IPv6 and packages for the instance itself' },
    ],
  };
}
