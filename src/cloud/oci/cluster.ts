/**
 * The whole OCI cluster of one stack: provider, network, NAT64/DNS64, the
 * workers' identity (they assign their own /80 at boot), API endpoint,
 * control-plane nodes and worker pools, wired together. The Pulumi program
 * (src/program/index.ts) reads the stack and calls this; tests call it
 * directly under mocks with any stack.
 */
import * as oci from '@pulumi/oci';
import * as pulumi from '@pulumi/pulumi';
import { formatAddress, formatPrefix } from '../../core/ip.js';
import type { Secrets } from '../../render/secrets.js';
import { TemplateSet } from '../../render/templates.js';
import { formatIpv4Prefix } from '../shared/tiers.js';
import type { ClusterOptions } from '../shared/args.js';
import { ApiEndpoint } from './api-endpoint.js';
import { OCI_KEY, shapeArch, type OciStack } from './config.js';
import { IPV6_PER_VNIC, layoutSummary, nodeCapacity, POD_PREFIX_LENGTH, type VcnLayout } from './layout.js';
import { Nat64Host } from './nat64-host.js';
import { Network } from './network.js';
import { NodePool, type OciMachineArgs } from './node-pool.js';
import { ociClusterPlan, ociControlPlaneNode, ociWorkerNode } from './plan.js';
import type { OciMachine, OciSpec } from './section.js';
import { buildOciUserData } from './userdata.js';

/** The platform image flat6 looks up when the stack names none. */
export const UBUNTU_IMAGE = { operatingSystem: 'Canonical Ubuntu', operatingSystemVersion: '24.04' } as const;

export class OciBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OciBuildError';
  }
}

export interface OciClusterOutputs {
  region: string;
  vcnId: pulumi.Output<string>;
  vcnIpv6Cidr: pulumi.Output<string>;
  /** kubeadm podSubnet: the node tier, where every /80 comes from */
  podSubnet: pulumi.Output<string>;
  subnets: pulumi.Output<Array<{ tier: 'nodes' | 'edge'; id: string; ipv6Cidr: string; ipv4Cidr: string }>>;
  /** "[address]:port", what kubeadm and every node use */
  apiEndpoint: pulumi.Output<string>;
  apiUrl: pulumi.Output<string>;
  apiAddress: pulumi.Output<string>;
  nat64: pulumi.Output<{ instanceId: string; address: string; prefix: string }>;
  controlPlanes: pulumi.Output<Array<{ key: string; instanceId: string; address: string; podPrefix: string; availabilityDomain: string }>>;
  workerPools: pulumi.Output<Array<{ name: string; instancePool: string; shape: string; size: number }>>;
  /** every address decision and the limits (nodes per cluster, /80s, IPv6 per VNIC) */
  layout: pulumi.Output<Record<string, unknown>>;
  /** how many nodes the stack has and the most its node subnet holds (known at preview: it does not depend on the /56) */
  nodeLimit: NodeLimit;
  kubeconfigCommands: pulumi.Output<string[]>;
}

export interface NodeLimit {
  nodes: number;
  maxNodes: number;
  nodesByIpv4: number;
  nodesByIpv6: number;
  podPrefixLength: number;
  ipv6AddressesPerVnic: number;
}

/** The stack's node count against the node subnet's limit (the checks refuse a stack above it: OCI_CAPACITY). */
export function nodeLimitOf(spec: OciSpec, controlPlanes: number): NodeLimit {
  const cap = nodeCapacity(spec.ipv4Cidr, controlPlanes);
  const nodes = controlPlanes + spec.workerPools.reduce((n, p) => n + p.size, 0);
  return { nodes, maxNodes: cap.nodes, nodesByIpv4: cap.ipv4Nodes, nodesByIpv6: cap.ipv6Nodes, podPrefixLength: POD_PREFIX_LENGTH, ipv6AddressesPerVnic: IPV6_PER_VNIC };
}

export interface OciCluster {
  provider: oci.Provider;
  network: Network;
  nat64: Nat64Host;
  api: ApiEndpoint;
  controlPlane: NodePool;
  workerPools: NodePool[];
  outputs: OciClusterOutputs;
}

/** Copy the admin kubeconfig off the first control plane over SSH (needs adminPrefixes and sshAuthorizedKeys) and use it. */
export function kubeconfigCommands(address: string, clusterName: string): string[] {
  const file = `kubeconfig-${clusterName}.yaml`;
  return [
    `ssh ubuntu@${address} sudo cat /etc/kubernetes/admin.conf > ${file} && chmod 600 ${file}`,
    `kubectl --kubeconfig ${file} get nodes -o wide`,
  ];
}

/** The workers' dynamic group name (unique in the tenancy). */
export function dynamicGroupName(clusterName: string, stackName: string): string {
  return `flat6-${stackName}-${clusterName}-workers`.slice(0, 100);
}

/** What a worker may do with its instance principal: give its own VNIC an IPv6 prefix. */
export function workerPolicyStatements(group: string, compartmentId: string): string[] {
  return [
    `Allow dynamic-group ${group} to use vnics in compartment id ${compartmentId}`,
    `Allow dynamic-group ${group} to use subnets in compartment id ${compartmentId}`,
    `Allow dynamic-group ${group} to manage ipv6s in compartment id ${compartmentId}`,
  ];
}

export function buildOciCluster(input: OciStack, secrets: pulumi.Input<Secrets>, opts: ClusterOptions = {}): OciCluster {
  const { oci: spec, plan } = input;
  const templates = opts.templates ?? new TemplateSet();
  const secretInput = pulumi.secret(secrets);
  const compartmentId = spec.compartmentId;
  const tags: Record<string, string> = { 'flat6-cluster': plan.name, 'flat6-stack': plan.stackName, ...spec.freeformTags };
  const sshKeys = spec.sshAuthorizedKeys.join('\n');

  // The limit shows in every preview, before OCI has allocated anything.
  const limit = nodeLimitOf(spec, plan.controlPlanes.length);
  void pulumi.log.info(
    `flat6: ${limit.nodes} node(s) of at most ${limit.maxNodes} (node subnet: ${limit.nodesByIpv4} IPv4 addresses; ${limit.nodesByIpv6} nodes of one IPv6 address and one /${limit.podPrefixLength}; ${limit.ipv6AddressesPerVnic} IPv6 addresses per VNIC)`,
  );
  const provider = new oci.Provider('oci', { region: spec.region });
  const inProvider = { providers: [provider] };
  const network = new Network(
    'network',
    {
      clusterName: plan.name,
      compartmentId,
      layoutInput: { availabilityDomains: spec.availabilityDomains, faultDomains: spec.faultDomains, ipv4Cidr: spec.ipv4Cidr, controlPlaneCount: plan.controlPlanes.length },
      apiPort: plan.apiPort,
      apiServerPort: plan.apiServerPort,
      adminPrefixes: spec.adminPrefixes,
      nodeEgress: spec.nodeEgress,
      freeformTags: tags,
    },
    inProvider,
  );
  const layout: pulumi.Output<VcnLayout> = network.layout;
  const nodeCidr = layout.apply((l) => formatPrefix(l.nodeSubnet));

  const images = new Map<string, pulumi.Input<string>>();
  const machineOf = (m: OciMachine, nsgIds: pulumi.Input<string>[]): OciMachineArgs => {
    const arch = shapeArch(m.shape);
    const pinned = spec.images[arch];
    let imageId = pinned ?? images.get(m.shape);
    if (imageId === undefined) {
      imageId = oci.core
        .getImagesOutput({ compartmentId, ...UBUNTU_IMAGE, shape: m.shape, sortBy: 'TIMECREATED', sortOrder: 'DESC' }, { provider })
        .images.apply((list) => {
          if (!list[0]) throw new OciBuildError(`no ${UBUNTU_IMAGE.operatingSystem} ${UBUNTU_IMAGE.operatingSystemVersion} image for shape ${m.shape} in ${spec.region}; set ${OCI_KEY}.images.${arch}`);
          return list[0].id;
        });
      images.set(m.shape, imageId);
    }
    return { shape: m.shape, ocpus: m.ocpus, memoryGiB: m.memoryGiB, bootVolumeGiB: m.bootVolumeGiB, imageId, imageFloats: pinned === undefined, nsgIds };
  };
  const groups = network.groups;

  // NAT64/DNS64: every node resolves through it and installs packages through it.
  const nat64 = new Nat64Host(
    'nat64',
    {
      clusterName: plan.name,
      compartmentId,
      availabilityDomain: spec.availabilityDomains[0],
      subnetId: network.edgeSubnet.id,
      layout,
      machine: machineOf(spec.nat64, [groups.nat64.id]),
      sshAuthorizedKeys: sshKeys,
      freeformTags: tags,
      dependsOn: network.nodeBootDependencies,
    },
    inProvider,
  );

  // Workers give their own VNIC its /80 at boot, with their instance principal.
  const groupName = dynamicGroupName(plan.name, plan.stackName);
  const dynamicGroup = new oci.identity.DynamicGroup(
    'workers-identity',
    {
      compartmentId: spec.tenancyId,
      name: groupName,
      description: `flat6 ${plan.name}: instances of compartment ${compartmentId} (workers assign their own pod prefix)`,
      matchingRule: `ALL {instance.compartment.id = '${compartmentId}'}`,
      freeformTags: tags,
    },
    { provider },
  );
  const policy = new oci.identity.Policy(
    'workers-policy',
    {
      compartmentId,
      name: `${groupName}-ipv6`,
      description: `flat6 ${plan.name}: workers assign an IPv6 /80 to their own VNIC`,
      statements: workerPolicyStatements(groupName, compartmentId),
      freeformTags: tags,
    },
    { provider, dependsOn: [dynamicGroup] },
  );

  const cpKeys = plan.controlPlanes.map((_, k) => `cp${k}`);
  const cpAddress = (k: number): pulumi.Output<string> => layout.apply((l) => formatAddress(l.controlPlanes[k].address));
  const api = new ApiEndpoint(
    'api',
    {
      clusterName: plan.name,
      compartmentId,
      edgeSubnetId: network.edgeSubnet.id,
      layout,
      securityGroupId: groups.api.id,
      port: plan.apiPort,
      apiServerPort: plan.apiServerPort,
      targets: cpKeys.map((key, k) => ({ key, address: cpAddress(k) })),
      freeformTags: tags,
    },
    inProvider,
  );

  const userDataOf = (node: (l: VcnLayout) => Parameters<typeof buildOciUserData>[2]): pulumi.Output<string> =>
    pulumi.secret(
      pulumi.all([layout, secretInput]).apply(([l, s]) => buildOciUserData({ plan: ociClusterPlan(plan, l), templates, secrets: s as Secrets }, l, node(l), { region: spec.region, sshAuthorizedKeys: sshKeys }).base64),
    );
  // Nothing boots before its network, NAT64/DNS64 and the API endpoint exist.
  const bootDependencies = [...network.nodeBootDependencies, nat64.instance, nat64.prefix, api.listener, ...api.backends];

  const controlPlane = new NodePool(
    'control-plane',
    {
      clusterName: plan.name,
      poolName: 'control-plane',
      compartmentId,
      subnetId: network.nodeSubnet.id,
      subnetIpv6Cidr: nodeCidr,
      machine: machineOf(spec.controlPlane, [groups.nodes.id, groups['control-plane'].id]),
      placement: {
        kind: 'control-plane',
        nodes: cpKeys.map((key, k) => ({
          key,
          availabilityDomain: spec.availabilityDomains[k % spec.availabilityDomains.length],
          ...(spec.faultDomains.length ? { faultDomain: spec.faultDomains[k % spec.faultDomains.length] } : {}),
          address: cpAddress(k),
          podPrefix: layout.apply((l) => formatPrefix(l.controlPlanes[k].podPrefix)),
          userData: userDataOf((l) => ociControlPlaneNode(plan, l, k)),
        })),
      },
      sshAuthorizedKeys: sshKeys,
      freeformTags: tags,
      bootDependencies,
    },
    inProvider,
  );

  const pools = spec.workerPools.map(
    (p) =>
      new NodePool(
        `workers-${p.name}`,
        {
          clusterName: plan.name,
          poolName: `workers-${p.name}`,
          compartmentId,
          subnetId: network.nodeSubnet.id,
          subnetIpv6Cidr: nodeCidr,
          machine: machineOf(p, [groups.nodes.id]),
          placement: { kind: 'workers', availabilityDomains: spec.availabilityDomains, faultDomains: spec.faultDomains, size: p.size, userData: userDataOf((l) => ociWorkerNode(l, p.name)) },
          sshAuthorizedKeys: sshKeys,
          freeformTags: tags,
          // the pool's workers also need their identity and its policy
          bootDependencies: [...bootDependencies, dynamicGroup, policy, ...controlPlane.podPrefixes],
        },
        inProvider,
      ),
  );

  return { provider, network, nat64, api, controlPlane, workerPools: pools, outputs: outputsOf(spec, plan.name, network, nat64, api, controlPlane, pools, cpKeys) };
}

function outputsOf(spec: OciSpec, clusterName: string, network: Network, nat64: Nat64Host, api: ApiEndpoint, controlPlane: NodePool, pools: NodePool[], cpKeys: string[]): OciClusterOutputs {
  const layout = network.layout;
  return {
    region: spec.region,
    vcnId: network.vcn.id,
    vcnIpv6Cidr: network.ipv6Cidr,
    podSubnet: layout.apply((l) => formatPrefix(l.nodeTier)),
    subnets: pulumi.all([network.nodeSubnet.id, network.edgeSubnet.id, layout]).apply(([nodeId, edgeId, l]) => [
      { tier: 'nodes' as const, id: nodeId, ipv6Cidr: formatPrefix(l.nodeSubnet), ipv4Cidr: formatIpv4Prefix(l.nodeIpv4) },
      { tier: 'edge' as const, id: edgeId, ipv6Cidr: formatPrefix(l.edgeSubnet), ipv4Cidr: formatIpv4Prefix(l.edgeIpv4) },
    ]),
    apiEndpoint: api.endpoint,
    apiUrl: api.url,
    apiAddress: api.address,
    nat64: pulumi.all([nat64.instance.id, nat64.address, nat64.prefixCidr]).apply(([instanceId, address, prefix]) => ({ instanceId, address, prefix })),
    controlPlanes: pulumi.all([layout, pulumi.all(controlPlane.instances.map((i) => i.id))]).apply(([l, ids]) =>
      l.controlPlanes.map((c, k) => ({ key: cpKeys[k], instanceId: ids[k], address: formatAddress(c.address), podPrefix: formatPrefix(c.podPrefix), availabilityDomain: c.availabilityDomain })),
    ),
    workerPools: pulumi.all(pools.map((p) => p.pool!.id)).apply((ids) => spec.workerPools.map((p, i) => ({ name: p.name, instancePool: ids[i], shape: p.shape, size: p.size }))),
    layout: layout.apply(layoutSummary),
    nodeLimit: nodeLimitOf(spec, cpKeys.length),
    kubeconfigCommands: layout.apply((l) => kubeconfigCommands(formatAddress(l.controlPlanes[0].address), clusterName)),
  };
}
