/**
 * The `flat6:cluster` section, declared once. Its TypeScript type
 * (ClusterConfig), its JSON Schema (`flat6 schema`), its defaults and the
 * field tables of docs/stack.md all come from this declaration.
 */
import { z } from 'zod';
import { defineSection, jsonSchemaOf, type JsonSchema } from './section.js';
import { DNS_SUBDOMAIN, dnsLabel, int, interfaceName, ipv6Address, ipv6Prefix, MAC, MAX_COUNT } from './fields.js';

export type { JsonSchema };

/** RFC 6996: private use 4-byte AS numbers. */
export const PRIVATE_ASN_MIN = 4200000000;
export const PRIVATE_ASN_MAX = 4294967294;

/** Defaults of the `routing` section. */
export const ROUTING_DEFAULTS = {
  mode: 'bgp',
  fabric: '2001:db8:ffff::/64',
  asn: { spine: 4200000000, tor: 4200100000, node: 4210000000 },
  bgp: { holdTime: 9, keepaliveTime: 3, connectRetryTime: 5, errorWaitTime: 1, errorWaitMaxTime: 5, gracefulRestartTime: 120 },
  bfd: { enabled: true, intervalMs: 100, multiplier: 3 },
  /** spines of a stack with more than one rack (one rack: 1) */
  spines: 2,
} as const;

/** Most spines a fabric may have: ToR-spine links of spine s come from the s-th 1/16 of routing.fabric. */
export const MAX_SPINES = 16;

/** Computed defaults, as the docs and the JSON Schema show them. */
const computed = (text: string) => ({ defaultText: text });

const asn = (dflt: number, description: string) => int(PRIVATE_ASN_MIN, PRIVATE_ASN_MAX).default(dflt).describe(description);

const listedNode = z
  .strictObject({
    name: dnsLabel('Host and Kubernetes node name: lower-case letters, digits and "-", at most 63 characters.'),
    slot: int(0, MAX_COUNT - 1).describe(
      'Position in the rack, 0 <= slot < layout.slotsPerRack. Node address = rack subnet + layout.hostOffset + slot; pod prefix = the slot-th pod prefix of the rack block. Never change the slot of a live node.',
    ),
    role: z.enum(['control-plane', 'worker']).optional().describe('Kubernetes role: control-plane or worker (default worker).').meta(computed('worker')),
    interface: interfaceName('Uplink interface name (same rules as defaults.interface).').optional().meta(computed('defaults.interface')),
    mac: z
      .string()
      .regex(MAC, 'is not a MAC address (six colon-separated hex pairs)')
      .transform((m) => m.toLowerCase())
      .optional()
      .describe('Uplink MAC; netplan then matches the interface by MAC and names it `interface`.'),
  })
  .describe('A node placed at a fixed slot of its rack. Its addresses are a function of (rack index, slot) only.');

const rackItem = z
  .strictObject({
    name: dnsLabel('Rack name: a DNS label of at most 50 characters, so node names <rack>-n<slot> fit in 63.', 50),
    index: int(0, MAX_COUNT - 1)
      .optional()
      .describe(
        'Rack position: its subnet and pod block are the index-th ones of their ranges. Without it a rack takes its list position, so inserting or removing a rack before it renumbers it (each rack without index gets a LAYOUT warning when the list has more than one rack). Set index on every rack.',
      )
      .meta(computed('list position')),
    gateway: ipv6Address('Gateway of the rack segment, inside the rack subnet.').optional().meta(computed('subnet + gatewayOffset')),
    nodes: z
      .union([int(0).describe('A node count n: nodes <rack>-n0 .. <rack>-n<n-1> at slots 0..n-1.'), z.array(listedNode).describe('Nodes at fixed slots.')])
      .describe('A count n (nodes <rack>-n0 .. <rack>-n<n-1> at slots 0..n-1), or a list of nodes.'),
  })
  .describe('One L3 segment behind a top-of-rack gateway.');

const generatedRacks = z
  .strictObject({
    count: int(1).describe('Number of racks, indexes 0..count-1.'),
    nodes: int(1).describe('Nodes per rack (slots 0..nodes-1).'),
    namePrefix: z
      .string()
      .regex(/^(?=.{1,40}$)[a-z]([-a-z0-9]*[a-z])?$/, 'is not a rack name prefix (1-40 lower-case letters, digits and "-", starting and ending with a letter)')
      .default('rack')
      .describe('Rack names are <namePrefix><index> with no zero padding (rack0 .. rack16383), so growth never renames a rack. At most 40 characters, so node names <namePrefix><index>-n<slot> fit in 63.'),
  })
  .describe('A generated set of equal racks, for large clusters.');

const network = z
  .strictObject({
    nodes: ipv6Prefix('Node range, an IPv6 prefix. Rack subnets (one per rack, rackSubnetLength long) are carved from it by rack index.'),
    rackSubnetLength: int(1, 127).default(64).describe('Length of each rack node subnet.'),
    pods: ipv6Prefix('Pod range (kubeadm podSubnet). Each rack gets one aggregate block, each node one pod prefix inside it.'),
    racks: ipv6Prefix(
      'Opt-in rack layout: the rack range. Rack i gets the i-th /rackBlockLength block of it, and its node subnet (the first /rackSubnetLength of the block) and its pod block (the last pod block-sized prefix of the block) both lie inside that one aggregate, so the spine holds one route per rack. network.nodes and network.pods must then each contain this range. Unset: node subnets come from network.nodes and pod blocks from network.pods, two routes per rack. Setting or changing it on a live cluster renumbers every node.',
    ).optional(),
    rackBlockLength: int(1, 127)
      .optional()
      .describe('With network.racks: length of each rack block. It must be shorter than both the rack subnet and the rack pod block.')
      .meta(computed('min(rackSubnetLength, rack pod block length) - 1')),
    podPrefixLength: int(1, 128).default(64).describe('Per-node pod prefix length: /64 on bare metal, /80 with AWS prefix delegation. At most /120.'),
    services: ipv6Prefix(
      'Service range (kubeadm serviceSubnet). Mask /108 or longer (kubeadm\'s limit); /112 is usual. The API Service is its 1st address, the DNS Service (kubelet clusterDNS) its 10th.',
    ),
    dns: z
      .array(ipv6Address('An IPv6 resolver address.'))
      .min(1)
      .max(16)
      .describe('Upstream IPv6 resolvers for the hosts (netplan nameservers), at least one. IPv6 addresses only (on AWS: the VPC resolver fd00:ec2::253, which also does DNS64).'),
    mtu: int(1280, 9216).default(1500).describe('Uplink MTU (IPv6 minimum 1280).'),
    dnsDomain: z
      .string()
      .regex(DNS_SUBDOMAIN, 'is not a lower-case DNS-1123 subdomain (labels of a-z, 0-9 and "-", at most 63 characters each, 253 in all)')
      .default('cluster.local')
      .describe('Cluster DNS domain (kubeadm networking.dnsDomain): a lower-case DNS-1123 subdomain such as cluster.local.'),
  })
  .describe('The three IPv6 ranges of the cluster and how they are divided.');

const layout = z
  .strictObject({
    slotsPerRack: int(1)
      .default(256)
      .describe('Node slots per rack, a power of two. The rack pod block is /(podPrefixLength - log2(slotsPerRack)).'),
    hostOffset: int(0, Number.MAX_SAFE_INTEGER)
      .default(16)
      .describe('Node address = rack subnet + hostOffset + slot. With the default, slot 0 is ::10, leaving ::1-::f for the gateway and router addresses.'),
    gatewayOffset: int(1, Number.MAX_SAFE_INTEGER).default(1).describe('Default rack gateway = rack subnet + gatewayOffset.'),
  })
  .describe('How positions map to addresses. Fixed for the life of the cluster: changing any of these renumbers nodes.');

const controlPlane = z
  .strictObject({
    count: int(1, 65535).default(3).describe('Number of control-plane nodes. Odd, for etcd quorum (an even count is a warning).'),
    rack: dnsLabel('Rack holding the control plane (a rack name). With keepalived-haproxy the VIP moves by VRRP, so the VIP and every control-plane node share this rack\'s segment.', 50)
      .optional()
      .meta(computed('the first rack')),
    vip: ipv6Address('API virtual IP, inside the control-plane rack subnet, not a node, gateway or reserved address. controlPlaneEndpoint is [vip]:port.'),
    port: int(1, 65535)
      .default(6443)
      .describe('Port of the API endpoint (controlPlaneEndpoint, join apiServerEndpoint). With keepalived-haproxy, haproxy\'s frontend (:::port) on every control-plane node.'),
    apiServerPort: int(1, 65535)
      .optional()
      .describe('Port each kube-apiserver binds (localAPIEndpoint.bindPort) and haproxy\'s backends use. Must differ from port when haproxy shares the host.')
      .meta(computed('port + 1 with keepalived-haproxy (6444), else port')),
    loadBalancer: z
      .enum(['keepalived-haproxy', 'none'])
      .default('keepalived-haproxy')
      .describe(
        'What serves the VIP. keepalived-haproxy: every control-plane node runs keepalived (VRRPv3 moves the VIP) and haproxy (spreads [vip]:port over the healthy API servers); flat6 renders both (docs/ha.md). none: something outside the cluster (e.g. a cloud load balancer) serves [vip]:port; no HA files are rendered and the VIP need not be on the control-plane segment.',
      ),
    preempt: z
      .boolean()
      .default(false)
      .describe('keepalived-haproxy only. false renders nopreempt: a recovered node leaves the VIP where it is, so a recovery costs no second failover. true: the first control-plane node always takes the VIP back.'),
    extraCertSANs: z
      .array(z.string().regex(DNS_SUBDOMAIN, 'is not a lower-case DNS name (labels of a-z, 0-9 and "-")'))
      .max(32)
      .default([])
      .describe('Extra DNS names in the API server certificate (kubeadm apiServer.certSANs), e.g. a name that resolves to the VIP; the VIP and every control-plane address are always in it.'),
    vrrpId: int(1, 255)
      .optional()
      .describe('keepalived-haproxy only: VRRP virtual_router_id, the same on every control-plane node. Set it when another VRRP group on the same segment uses the derived value.')
      .meta(computed('derived from the cluster name and the VIP')),
  })
  .describe('The control plane: which nodes, and the HA API endpoint.');

/**
 * kubeadm nodeRegistration.criSocket: a unix:// (or npipe://) URL of printable
 * characters with no quotes, spaces or YAML/shell syntax.
 */
export const CRI_SOCKET = /^(unix|npipe):\/\/[A-Za-z0-9._/@+=-]{1,200}$/;

const defaults = z
  .strictObject({
    interface: interfaceName('Uplink interface name of nodes that do not name one: 1-15 of letters, digits, "_", "-" and "."; not "." or ".." (Linux refuses those, ":" and "/").').default('eth0'),
    criSocket: z
      .string()
      .regex(CRI_SOCKET, 'is not a CRI socket URL (unix:///path of letters, digits and ._/@+=- only)')
      .default('unix:///var/run/containerd/containerd.sock')
      .describe('kubeadm nodeRegistration.criSocket: unix:///path (letters, digits and ._/@+=- in the path).'),
  })
  .describe('Defaults for nodes that do not say otherwise.');

const routing = z
  .strictObject({
    mode: z
      .enum(['bgp', 'static'])
      .default(ROUTING_DEFAULTS.mode)
      .describe(
        'bgp: BIRD 2 on every node and fabric router; each node announces its pod prefix to its ToR, each ToR announces its rack pod block and rack subnet to the spine, the spine sends the ToRs a default route. static: no routing daemon; ToRs hold one static route per node, the spine two per rack.',
      ),
    fabric: ipv6Prefix(
      'Prefix of the ToR-spine links: the link of rack i is the i-th /127 (RFC 6164), spine on the even address, ToR on the odd one. Must not overlap the node, pod or service ranges. The default is a documentation prefix; set your own (a warning says so when the other ranges are real).',
    ).optional().meta({ default: ROUTING_DEFAULTS.fabric }),
    asn: z
      .strictObject({
        spine: asn(ROUTING_DEFAULTS.asn.spine, 'AS of the spine.'),
        tor: asn(ROUTING_DEFAULTS.asn.tor, 'AS of the ToR of rack 0; the ToR of rack i has tor + i.'),
        node: asn(ROUTING_DEFAULTS.asn.node, 'AS of the node at rack 0, slot 0; the node at (rack r, slot s) has node + r x slotsPerRack + s, so adding nodes never renumbers one.'),
      })
      .prefault({})
      .describe('Private 4-byte AS numbers (RFC 6996: 4200000000-4294967294). bgp mode only.'),
    bgp: z
      .strictObject({
        holdTime: int(3, 65535).default(ROUTING_DEFAULTS.bgp.holdTime).describe('Hold time in seconds: a silent peer is declared down after this long (RFC 4271: at least 3).'),
        keepaliveTime: int(1, 21845).default(ROUTING_DEFAULTS.bgp.keepaliveTime).describe('Keepalive interval in seconds; below holdTime (a third of it is usual).'),
        connectRetryTime: int(1, 65535).default(ROUTING_DEFAULTS.bgp.connectRetryTime).describe('Seconds between attempts to open a session to a peer that is not answering.'),
        errorWaitTime: int(1, 65535).default(ROUTING_DEFAULTS.bgp.errorWaitTime).describe('Seconds BIRD waits before it restarts a session that failed (a lost link, a BFD or hold timer expiry); doubled on each failure that follows within 300 s, up to errorWaitMaxTime. BIRD\'s own default is 60 s, growing to 300 s.'),
        errorWaitMaxTime: int(1, 65535).default(ROUTING_DEFAULTS.bgp.errorWaitMaxTime).describe('Upper bound of the doubled error wait, seconds; at least errorWaitTime.'),
        gracefulRestartTime: int(1, 4095).default(ROUTING_DEFAULTS.bgp.gracefulRestartTime).describe('Graceful restart (RFC 4724): how long a peer keeps forwarding on the routes of a router whose BGP restarts (birdc graceful restart) before it drops them, seconds.'),
      })
      .prefault({})
      .describe('BGP session timers on every session. bgp mode only.'),
    bfd: z
      .strictObject({
        enabled: z.boolean().default(ROUTING_DEFAULTS.bfd.enabled).describe('BFD (RFC 5880) on every node-ToR and ToR-spine session: a dead link or peer ends the session after intervalMs x multiplier instead of the hold time.'),
        intervalMs: int(10, 10000).default(ROUTING_DEFAULTS.bfd.intervalMs).describe('BFD transmit and receive interval, milliseconds.'),
        multiplier: int(1, 255).default(ROUTING_DEFAULTS.bfd.multiplier).describe('BFD packets missed in a row before the peer is declared down.'),
      })
      .prefault({})
      .describe('Bidirectional forwarding detection on the BGP sessions. bgp mode only.'),
    spines: int(1, MAX_SPINES)
      .optional()
      .describe('Number of spine routers. Every ToR has a link to and a BGP session with each, and spreads traffic over them (ECMP default route); losing one spine leaves the others carrying every rack. More than one needs bgp mode.')
      .meta(computed('2 in bgp mode with more than one rack, else 1')),
  })
  .describe('How pod prefixes reach the fabric: each node announces its pod prefix to its top-of-rack router (bgp), or the routers hold static routes (static). See docs/routing.md.');

export const clusterSchema = z.strictObject({
  name: dnsLabel('Cluster name (kubeadm clusterName): lower-case letters, digits and "-", at most 63 characters.'),
  kubernetesVersion: z
    .string()
    .regex(/^v?\d{1,3}\.\d{1,3}\.\d{1,4}$/, 'is not a version of the form vX.Y.Z')
    .describe('Kubernetes version vX.Y.Z. flat6 renders kubeadm\'s v1beta4 config API: v1.31.0 to v1.36.x (K8S_VERSION).'),
  network,
  layout: layout.prefault({}),
  controlPlane,
  defaults: defaults.prefault({}),
  routing: routing.prefault({}),
  racks: z.union([z.array(rackItem).min(1).max(MAX_COUNT), generatedRacks]).describe('The racks: a list, or a generated set {count, nodes} named <namePrefix><index>.'),
});

/** The cluster section as written, with defaults applied. */
export type ClusterConfig = z.output<typeof clusterSchema>;
export type RackConfig = z.output<typeof rackItem>;
export type ListedNodeConfig = z.output<typeof listedNode>;
export type GeneratedRacksConfig = z.output<typeof generatedRacks>;

export const CLUSTER_SECTION = defineSection('flat6:cluster', clusterSchema, {
  id: 'https://flat6.dev/schema/cluster.json',
  description:
    'The cluster section of a Pulumi stack file (stacks/Pulumi.<stack>.yaml, under config: flat6:cluster). One source of truth for the address plan, rendered host configs and the Pulumi program.',
});

/** JSON Schema of the cluster section (`flat6 schema`); built on first use, not when a stack is only loaded. */
export function stackSchema(): JsonSchema {
  return jsonSchemaOf(CLUSTER_SECTION);
}
