/**
 * The add-on plan: every value the manifests need, taken from the cluster plan
 * and the checked flat6:addons section. Pure (no I/O, no Pulumi); every
 * address is the plan's, printed in RFC 5952 form.
 */
import { Flat6Error, type Diagnostic } from '../core/diagnostics.js';
import { formatAddress, formatPrefix, IpError, parsePrefix } from '../core/ip.js';
import type { ClusterPlan } from '../plan/plan.js';
import { checkedSection, type LoadedStack, type Path } from '../spec/load.js';
import { resolveImages, type Images } from './images.js';
import { ADDONS_KEY, ADDONS_SECTION, type AddonsConfig } from './section.js';

/** The config key whose presence marks an AWS stack (src/cloud/aws). */
const AWS_KEY = 'flat6:aws';
/** RFC 6052: the prefix lengths a NAT64 prefix may have. */
export const NAT64_LENGTHS = [32, 40, 48, 56, 64, 96] as const;

export interface ControlPlaneTarget {
  /** Kubernetes node name (kubernetes.io/hostname) */
  name: string;
  /** the node's address: etcd's client URL is https://[address]:2379 */
  address: string;
}

export interface AddonsPlan {
  config: AddonsConfig;
  images: Images;
  clusterName: string;
  /** the stack's Kubernetes version, vX.Y.Z */
  kubernetesVersion: string;
  dnsDomain: string;
  /** kube-dns: the 10th address of the service range */
  dnsServiceIP: string;
  /** upstream IPv6 resolvers (flat6:cluster network.dns) */
  resolvers: string[];
  /** the site's NAT64 prefix: CoreDNS synthesises AAAA records */
  nat64Prefix?: string;
  /** true on AWS: the VPC resolver does DNS64 */
  upstreamDns64: boolean;
  nodeRange: string;
  podRange: string;
  /**
   * length of a rack's pod block (with the rack layout, of its rack block): the
   * rack of a pod address is its bits [podRange length, rackPodLength)
   */
  rackPodLength: number;
  mtu: number;
  controlPlanes: ControlPlaneTarget[];
}

/** The stack's flat6:addons value, or undefined when the stack has none (add-ons are off). */
export function addonsSectionOf(stack: LoadedStack): unknown {
  return Object.hasOwn(stack.config, ADDONS_KEY) ? stack.config[ADDONS_KEY] : undefined;
}

/**
 * Check flat6:addons (schema problems exit 2, semantic ones exit 1, each at its
 * place in the stack file) and plan the add-ons; undefined when the stack has
 * no flat6:addons section.
 */
export function planAddons(stack: LoadedStack, plan: ClusterPlan): AddonsPlan | undefined {
  const raw = addonsSectionOf(stack);
  if (raw === undefined) return undefined;
  const config = checkedSection(ADDONS_SECTION, raw ?? {}, stack.locateIn);
  const problems: Diagnostic[] = [];
  const problem = (code: string, path: Path, message: string, fix: string): void => {
    problems.push({ code, severity: 'error', message, path: path.join('.'), section: ADDONS_KEY, location: stack.locateIn(ADDONS_KEY, path), fix });
  };
  const onAws = Object.hasOwn(stack.config, AWS_KEY);

  let nat64Prefix: string | undefined;
  const nat64 = config.dns.nat64Prefix;
  if (nat64 !== undefined) {
    try {
      const p = parsePrefix(nat64);
      if (!(NAT64_LENGTHS as readonly number[]).includes(p.length)) {
        problem('ADDONS_NAT64', ['dns', 'nat64Prefix'], `NAT64 prefix ${formatPrefix(p)} has length /${p.length}`, `use a length of ${NAT64_LENGTHS.map((l) => `/${l}`).join(', ')} (RFC 6052), e.g. 64:ff9b::/96`);
      } else nat64Prefix = formatPrefix(p);
    } catch (e) {
      if (!(e instanceof IpError)) throw e;
      problem('ADDONS_NAT64', ['dns', 'nat64Prefix'], `${JSON.stringify(nat64)} is not an IPv6 prefix: ${e.message}`, 'write an IPv6 prefix such as 64:ff9b::/96');
    }
    if (onAws) {
      problem('ADDONS_NAT64', ['dns', 'nat64Prefix'], 'an AWS stack sets a NAT64 prefix for CoreDNS', 'remove dns.nat64Prefix: the VPC resolver (fd00:ec2::253) already synthesises AAAA records (DNS64) for the IPv6-only subnets, and CoreDNS forwards to it');
    }
  }
  if (onAws) {
    // On AWS node names, node addresses and pod prefixes come from AWS at `pulumi up`; the plan's are placeholders.
    const why = 'on AWS, node names and addresses come from AWS at pulumi up, not from the plan (docs/addons.md)';
    if (config.etcdBackup.enabled) problem('ADDONS_CLOUD', ['etcdBackup', 'enabled'], `etcd backups target each control-plane node by plan name and address, and ${why}`, 'set etcdBackup.enabled: false on AWS stacks');
    if (config.networkPolicy.allowNodeRange) problem('ADDONS_CLOUD', ['networkPolicy', 'allowNodeRange'], `the node range is the plan's, and ${why}`, 'set networkPolicy.allowNodeRange: false on AWS stacks');
    if (config.conformance.enabled) problem('ADDONS_CLOUD', ['conformance', 'enabled'], `the conformance check finds a pod's rack from the plan's pod range, and ${why}`, 'set conformance.enabled: false on AWS stacks');
  }
  if (plan.rackRange && config.networkPolicy.allowNodeRange) {
    // With the rack layout network.nodes must contain the rack range, so it holds every pod block too.
    problem(
      'ADDONS_RACK_LAYOUT',
      ['networkPolicy', 'allowNodeRange'],
      `with the rack layout (network.racks ${formatPrefix(plan.rackRange)}) the node range ${formatPrefix(plan.nodeRange)} also holds every pod block, so allowing it would let every pod in`,
      'set networkPolicy.allowNodeRange: false on stacks with network.racks',
    );
  }
  if (config.kubeconfig.source === 'file' && config.kubeconfig.path === undefined) {
    problem('ADDONS_KUBECONFIG', ['kubeconfig', 'source'], 'kubeconfig.source is file but no kubeconfig.path is given', 'add kubeconfig.path (e.g. kubeconfig-metal.yaml), or use source: secret');
  }
  if (problems.length) throw new Flat6Error(problems, 1);

  return {
    config,
    images: resolveImages(config.images),
    clusterName: plan.name,
    kubernetesVersion: plan.kubernetesVersion,
    dnsDomain: plan.spec.network.dnsDomain,
    dnsServiceIP: formatAddress(plan.dnsServiceIP),
    resolvers: plan.dns.map(formatAddress),
    nat64Prefix,
    upstreamDns64: onAws,
    nodeRange: formatPrefix(plan.nodeRange),
    podRange: formatPrefix(plan.podRange),
    rackPodLength: plan.rackBlockLength ?? plan.rackPodLength,
    mtu: plan.spec.network.mtu,
    controlPlanes: plan.controlPlanes.map((n) => ({ name: n.name, address: formatAddress(n.address) })),
  };
}
