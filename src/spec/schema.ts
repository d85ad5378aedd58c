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
const dnsName = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

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
    interface: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,15}$', description: 'Uplink interface name (default: defaults.interface).' },
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
    name: { type: 'string', pattern: dnsName, description: 'Rack name (lower-case DNS label).' },
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
      required: ['nodes', 'pods', 'services'],
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
        dnsDomain: { type: 'string', default: 'cluster.local', description: 'Cluster DNS domain.' },
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
        port: { type: 'integer', minimum: 1, maximum: 65535, default: 6443, description: 'Port of the API endpoint (controlPlaneEndpoint).' },
        apiServerPort: { type: 'integer', minimum: 1, maximum: 65535, default: 6443, description: 'Port each kube-apiserver binds (localAPIEndpoint.bindPort).' },
      },
    },
    defaults: {
      type: 'object',
      additionalProperties: false,
      description: 'Defaults for nodes that do not say otherwise.',
      properties: {
        interface: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,15}$', default: 'eth0', description: 'Uplink interface name.' },
        criSocket: { type: 'string', default: 'unix:///var/run/containerd/containerd.sock', description: 'CRI socket for kubeadm nodeRegistration.' },
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
            namePrefix: { type: 'string', pattern: '^[a-z]([-a-z0-9]*[a-z])?$', default: 'rack', description: 'Rack names are <namePrefix><index, zero-padded>.' },
          },
        },
      ],
    },
  },
};
