/**
 * JSON Schema of the `flat6:cluster` stack config. This object is the one
 * source of truth: `flat6 schema` prints it, and src/spec/validate.ts checks
 * stack files against it (with located errors) before any planning.
 */

export type JsonSchema = {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | Array<'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object'>;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: Array<string | number | boolean>;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  oneOf?: JsonSchema[];
  default?: unknown;
  examples?: unknown[];
};

const ipv6Address: JsonSchema = {
  type: 'string',
  description: 'An IPv6 address literal without brackets, e.g. 2001:db8:1::100.',
};
const ipv6Prefix: JsonSchema = {
  type: 'string',
  description: 'An IPv6 prefix in address/length form, e.g. 2001:db8:42::/48. Host bits must be zero.',
};
/** A DNS label (RFC 1123): lower-case letters, digits and "-", at most 63 characters. */
const dnsName = '^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/**
 * A rack name: a DNS label of at most 50 characters, so that generated node
 * names <rack>-n<slot> stay within the 63 of a host name.
 */
const rackName = '^(?=.{1,50}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** A DNS-1123 subdomain (kubeadm networking.dnsDomain): dot-separated DNS labels, at most 253 characters. */
const dnsSubdomain = '^(?=.{1,253}$)(?!.*[^.]{64})[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A Linux interface name: 1-15 characters, no "/", ":" or white space, and neither "." nor "..". */
const interfaceName = '^(?!\\.\\.?$)[A-Za-z0-9_.-]{1,15}$';

/** RFC 6996: private use 4-byte AS numbers. */
export const PRIVATE_ASN_MIN = 4200000000;
export const PRIVATE_ASN_MAX = 4294967294;

/** Defaults of the `routing` section (src/spec/load.ts applies them). */
export const ROUTING_DEFAULTS = {
  mode: 'bgp',
  fabric: '2001:db8:ffff::/64',
  asn: { spine: 4200000000, tor: 4200100000, node: 4210000000 },
  bgp: { holdTime: 9, keepaliveTime: 3, connectRetryTime: 5 },
} as const;

const listedNode: JsonSchema = {
  type: 'object',
  description: 'A node placed at a fixed slot of its rack. Its addresses are a function of (rack index, slot) only.',
  additionalProperties: false,
  required: ['name', 'slot'],
  properties: {
    name: {
      type: 'string',
      pattern: dnsName,
      description: 'Host and Kubernetes node name: lower-case letters, digits and "-", at most 63 characters.',
    },
    slot: {
      type: 'integer',
      minimum: 0,
      description:
        'Position in the rack, 0 <= slot < layout.slotsPerRack. Node address = rack subnet + layout.hostOffset + slot; pod prefix = the slot-th pod prefix of the rack block. Never change the slot of a live node.',
    },
    role: { type: 'string', enum: ['control-plane', 'worker'], default: 'worker', description: 'Kubernetes role.' },
    interface: { type: 'string', pattern: interfaceName, description: 'Uplink interface name (default: defaults.interface): 1-15 of letters, digits, "_", "-" and "."; not "." or "..".' },
    mac: {
      type: 'string',
      pattern: '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$',
      description: 'MAC address of the uplink; netplan then matches the interface by MAC and names it `interface`.',
    },
  },
};

const rackItem: JsonSchema = {
  type: 'object',
  description: 'One L3 segment behind a top-of-rack gateway.',
  additionalProperties: false,
  required: ['name', 'nodes'],
  properties: {
    name: { type: 'string', pattern: rackName, description: 'Rack name: lower-case DNS label of at most 50 characters (node names <rack>-n<slot> must fit in 63).' },
    index: {
      type: 'integer',
      minimum: 0,
      description:
        'Rack position; the rack node subnet and pod block are the index-th ones of their ranges. Defaults to the position in the list: append racks, never reorder them, or set index explicitly.',
    },
    gateway: { ...ipv6Address, description: 'Gateway of the rack segment (default: rack subnet + layout.gatewayOffset).' },
    nodes: {
      description: 'Either a node count (slots 0..count-1, names <rack>-n<slot>) or a list of nodes at fixed slots.',
      oneOf: [
        { type: 'integer', minimum: 0 },
        { type: 'array', items: listedNode },
      ],
    },
  },
};

export const STACK_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://flat6.dev/schema/cluster.json',
  title: 'flat6:cluster',
  description:
    'The cluster section of a Pulumi stack file (stacks/Pulumi.<stack>.yaml, under config: flat6:cluster). One source of truth for the address plan, rendered host configs and the Pulumi program.',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'kubernetesVersion', 'network', 'controlPlane', 'racks'],
  properties: {
    name: { type: 'string', pattern: dnsName, description: 'Cluster name (kubeadm clusterName).' },
    kubernetesVersion: {
      type: 'string',
      pattern: '^v?\\d+\\.\\d+\\.\\d+$',
      description: 'Kubernetes version, e.g. v1.31.4. Must be one kubeadm v1beta4 supports (v1.31 or newer).',
    },
    network: {
      type: 'object',
      additionalProperties: false,
      required: ['nodes', 'pods', 'services', 'dns'],
      description: 'The three IPv6 ranges of the cluster and how they are divided.',
      properties: {
        nodes: { ...ipv6Prefix, description: 'Node range. Rack subnets (one per rack, network.rackSubnetLength long) are carved from it by rack index.' },
        rackSubnetLength: { type: 'integer', minimum: 1, maximum: 127, default: 64, description: 'Length of each rack node subnet (default 64).' },
        pods: { ...ipv6Prefix, description: 'Pod range. Each rack gets one aggregate block, each node one pod prefix inside it.' },
        podPrefixLength: { type: 'integer', minimum: 1, maximum: 128, default: 64, description: 'Per-node pod prefix length (default 64; /80 on AWS prefix delegation).' },
        services: { ...ipv6Prefix, description: 'Service range (kubeadm serviceSubnet). Mask must be /108 or longer; /112 is usual. The DNS Service is its 10th address.' },
        dns: {
          type: 'array',
          items: ipv6Address,
          minItems: 1,
          description: 'Upstream IPv6 DNS servers for the hosts (netplan nameservers).',
        },
        mtu: { type: 'integer', minimum: 1280, maximum: 9216, default: 1500, description: 'Link MTU of node uplinks (IPv6 minimum 1280).' },
        dnsDomain: { type: 'string', pattern: dnsSubdomain, default: 'cluster.local', description: 'Cluster DNS domain (kubeadm networking.dnsDomain): a lower-case DNS-1123 subdomain such as cluster.local.' },
      },
    },
    layout: {
      type: 'object',
      additionalProperties: false,
      description: 'How positions map to addresses. Fixed for the life of the cluster: changing any of these renumbers nodes.',
      properties: {
        slotsPerRack: {
          type: 'integer',
          minimum: 1,
          default: 256,
          description: 'Node slots per rack, a power of two. Sets the rack pod block: podPrefixLength - log2(slotsPerRack).',
        },
        hostOffset: {
          type: 'integer',
          minimum: 0,
          default: 16,
          description: 'Node address = rack subnet + hostOffset + slot. Keep room below it for the gateway and router addresses.',
        },
        gatewayOffset: { type: 'integer', minimum: 1, default: 1, description: 'Default rack gateway = rack subnet + gatewayOffset.' },
      },
    },
    controlPlane: {
      type: 'object',
      additionalProperties: false,
      required: ['vip'],
      description: 'The control plane: which nodes, and the HA API endpoint.',
      properties: {
        count: { type: 'integer', minimum: 1, default: 3, description: 'Number of control-plane nodes (odd, for etcd quorum).' },
        rack: { type: 'string', description: 'Rack holding the control plane (default: the first rack). VRRP needs the VIP and control-plane nodes on one segment.' },
        vip: { ...ipv6Address, description: 'Virtual IP of the API endpoint; controlPlaneEndpoint is [vip]:port.' },
        port: {
          type: 'integer',
          minimum: 1,
          maximum: 65535,
          default: 6443,
          description: 'Port of the API endpoint (controlPlaneEndpoint [vip]:port). With loadBalancer keepalived-haproxy it is the haproxy frontend port (:::port) on every control-plane node.',
        },
        apiServerPort: {
          type: 'integer',
          minimum: 1,
          maximum: 65535,
          description:
            'Port each kube-apiserver binds (localAPIEndpoint.bindPort); haproxy backends use it. Default: port + 1 (6444) with loadBalancer keepalived-haproxy, since haproxy holds port on the same host; port itself with loadBalancer none.',
        },
        loadBalancer: {
          type: 'string',
          enum: ['keepalived-haproxy', 'none'],
          default: 'keepalived-haproxy',
          description:
            'What serves the VIP. keepalived-haproxy: every control-plane node runs keepalived (VRRPv3 moves the VIP) and haproxy (spreads [vip]:port over the healthy API servers); flat6 renders both (docs/ha.md). none: something outside the cluster (e.g. a cloud load balancer) serves [vip]:port; no HA files are rendered.',
        },
        preempt: {
          type: 'boolean',
          default: false,
          description:
            'keepalived-haproxy only. false (nopreempt): a node that comes back never takes the VIP from the current holder, so a recovery costs no second failover. true: the highest-priority healthy node (the first control-plane node) always takes the VIP back.',
        },
        vrrpId: {
          type: 'integer',
          minimum: 1,
          maximum: 255,
          description:
            'keepalived-haproxy only: VRRP virtual_router_id, the same on every control-plane node. Default: derived from the cluster name and the VIP (1..255). Set it when another VRRP group on the same segment uses the derived value.',
        },
      },
    },
    defaults: {
      type: 'object',
      additionalProperties: false,
      description: 'Defaults for nodes that do not say otherwise.',
      properties: {
        interface: { type: 'string', pattern: interfaceName, default: 'eth0', description: 'Uplink interface name: 1-15 of letters, digits, "_", "-" and "."; not "." or "..".' },
        criSocket: { type: 'string', default: 'unix:///var/run/containerd/containerd.sock', description: 'CRI socket for kubeadm nodeRegistration.' },
      },
    },
    routing: {
      type: 'object',
      additionalProperties: false,
      description: 'How pod prefixes reach the fabric: each node announces its pod prefix to its top-of-rack router (bgp), or the routers hold static routes (static). See docs/routing.md.',
      properties: {
        mode: {
          type: 'string',
          enum: ['bgp', 'static'],
          default: ROUTING_DEFAULTS.mode,
          description:
            'bgp: BIRD 2 on every node and fabric router; nodes announce their pod prefix to the ToR, each ToR announces its rack pod block and rack subnet to the spine, the spine sends the ToRs a default route. static: no routing daemon; ToRs hold one static route per node, the spine two per rack.',
        },
        fabric: {
          ...ipv6Prefix,
          default: ROUTING_DEFAULTS.fabric,
          description:
            'Prefix of the ToR-spine links. The link of rack i is the i-th /127 (RFC 6164): the spine takes its even address, the ToR the odd one. Must not overlap the node, pod or service ranges. The default is a documentation prefix: set your own.',
        },
        asn: {
          type: 'object',
          additionalProperties: false,
          description: 'Private 4-byte AS numbers (RFC 6996: 4200000000-4294967294). bgp mode only.',
          properties: {
            spine: { type: 'integer', minimum: PRIVATE_ASN_MIN, maximum: PRIVATE_ASN_MAX, default: ROUTING_DEFAULTS.asn.spine, description: 'AS of the spine.' },
            tor: {
              type: 'integer',
              minimum: PRIVATE_ASN_MIN,
              maximum: PRIVATE_ASN_MAX,
              default: ROUTING_DEFAULTS.asn.tor,
              description: 'AS of the ToR of rack 0; the ToR of rack i has tor + i.',
            },
            node: {
              type: 'integer',
              minimum: PRIVATE_ASN_MIN,
              maximum: PRIVATE_ASN_MAX,
              default: ROUTING_DEFAULTS.asn.node,
              description: 'AS of the node at rack 0, slot 0; the node at (rack r, slot s) has node + r * layout.slotsPerRack + s, so adding nodes never renumbers one.',
            },
          },
        },
        bgp: {
          type: 'object',
          additionalProperties: false,
          description: 'BGP session timers (seconds) on every session. bgp mode only.',
          properties: {
            holdTime: { type: 'integer', minimum: 3, maximum: 65535, default: ROUTING_DEFAULTS.bgp.holdTime, description: 'Hold time: a silent peer is declared down after this long (RFC 4271: 0 or at least 3).' },
            keepaliveTime: { type: 'integer', minimum: 1, maximum: 21845, default: ROUTING_DEFAULTS.bgp.keepaliveTime, description: 'Keepalive interval; must be below holdTime (a third of it is usual).' },
            connectRetryTime: { type: 'integer', minimum: 1, maximum: 65535, default: ROUTING_DEFAULTS.bgp.connectRetryTime, description: 'Wait between attempts to open a session to a peer that is not answering.' },
          },
        },
      },
    },
    racks: {
      description: 'The racks: a list, or a generated set {count, nodes} named <namePrefix><index>.',
      oneOf: [
        { type: 'array', items: rackItem, minItems: 1 },
        {
          type: 'object',
          additionalProperties: false,
          required: ['count', 'nodes'],
          properties: {
            count: { type: 'integer', minimum: 1, description: 'Number of racks, indexes 0..count-1.' },
            nodes: { type: 'integer', minimum: 1, description: 'Nodes per rack (slots 0..nodes-1).' },
            namePrefix: {
              type: 'string',
              pattern: '^(?=.{1,40}$)[a-z]([-a-z0-9]*[a-z])?$',
              default: 'rack',
              description: 'Rack names are <namePrefix><index> with no zero padding (rack0 .. rack16383), so growth never renames a rack. At most 40 characters, so node names <namePrefix><index>-n<slot> fit in 63.',
            },
          },
        },
      ],
    },
  },
};
