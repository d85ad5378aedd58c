/**
 * The whole AWS cluster of one stack: provider, network, API endpoint, node
 * identity, control-plane nodes and worker pools, wired together. The Pulumi
 * program (src/program/index.ts) reads the stack and calls this; tests call it
 * directly under mocks with any stack.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { formatAddress, formatPrefix } from '../../core/ip.js';
import type { Secrets } from '../../render/secrets.js';
import { TemplateSet } from '../../render/templates.js';
import type { ClusterOptions } from '../shared/args.js';
import { ApiEndpoint } from './api-endpoint.js';

export type { ClusterOptions };
import { apiCertSans, awsClusterPlan, awsControlPlaneNode, awsWorkerNode } from './plan.js';
import type { AwsStack } from './config.js';
import { archOf, type Arch } from './instance-types.js';
import { layoutSummary, type VpcLayout } from './layout.js';
import { Network } from './network.js';
import { NodePool } from './node-pool.js';
import { buildUserData } from './userdata.js';

/** Canonical's public SSM parameters for Ubuntu 24.04 LTS (gp3 root volume). */
export const UBUNTU_AMI_PARAMETER: Record<Arch, string> = {
  x86_64: '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
  arm64: '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
};

export interface ClusterOutputs {
  region: string;
  vpcId: pulumi.Output<string>;
  vpcIpv6Cidr: pulumi.Output<string>;
  /** kubeadm podSubnet: the node tier, where every /80 comes from */
  podSubnet: pulumi.Output<string>;
  subnets: pulumi.Output<Array<{ zone: string; tier: 'nodes' | 'edge'; id: string; ipv6Cidr: string; ipv4Cidr?: string }>>;
  /** "<load balancer DNS name>:port", what kubeadm and every node use */
  apiEndpoint: pulumi.Output<string>;
  apiUrl: pulumi.Output<string>;
  apiLoadBalancerDnsName: pulumi.Output<string>;
  /** the load balancer's pinned IPv6 address in each zone (all in the certSANs) */
  apiAddresses: pulumi.Output<string[]>;
  controlPlanes: pulumi.Output<Array<{ key: string; instanceId: string; address: string; zone: string }>>;
  workerPools: pulumi.Output<Array<{ name: string; autoScalingGroup: string; instanceType: string; size: number }>>;
  layout: pulumi.Output<Record<string, unknown>>;
  kubeconfigCommands: pulumi.Output<string[]>;
}

/** The commands that copy the admin kubeconfig off the first control plane and reach the API through SSM. */
export function kubeconfigCommands(region: string, instanceId: string, clusterName: string): string[] {
  const file = `kubeconfig-${clusterName}.yaml`;
  return [
    `CMD=$(aws ssm send-command --region ${region} --instance-ids ${instanceId} --document-name AWS-RunShellScript --parameters 'commands=["cat /etc/kubernetes/admin.conf"]' --query Command.CommandId --output text)`,
    `aws ssm wait command-executed --region ${region} --command-id "$CMD" --instance-id ${instanceId}`,
    `aws ssm get-command-invocation --region ${region} --command-id "$CMD" --instance-id ${instanceId} --query StandardOutputContent --output text > ${file} && chmod 600 ${file}`,
    `aws ssm start-session --region ${region} --target ${instanceId} --document-name AWS-StartPortForwardingSession --parameters portNumber=6443,localPortNumber=16443 &`,
    `kubectl --kubeconfig ${file} --server https://127.0.0.1:16443 --tls-server-name kubernetes get nodes -o wide`,
  ];
}

/** The parts of a built cluster (for tests and for programs that extend it) and its stack outputs. */
export interface Cluster {
  provider: aws.Provider;
  network: Network;
  api: ApiEndpoint;
  controlPlane: NodePool;
  workerPools: NodePool[];
  outputs: ClusterOutputs;
}

export function buildCluster(input: AwsStack, secrets: pulumi.Input<Secrets>, opts: ClusterOptions = {}): Cluster {
  const { aws: spec, plan } = input;
  const templates = opts.templates ?? new TemplateSet();
  const secretInput = pulumi.secret(secrets);

  const provider = new aws.Provider('aws', {
    region: spec.region as aws.Region,
    defaultTags: { tags: { 'flat6:cluster': plan.name, 'flat6:stack': plan.stackName, ...spec.tags } },
  });
  const inProvider = { providers: [provider] };

  const network = new Network(
    'network',
    {
      clusterName: plan.name,
      region: spec.region,
      zones: spec.availabilityZones,
      ipv4Cidr: spec.ipv4Cidr,
      natGateway: spec.natGateway,
      controlPlaneCount: plan.controlPlanes.length,
      apiPort: plan.apiPort,
      apiServerPort: plan.apiServerPort,
      adminPrefixes: spec.adminPrefixes,
      nodeEgress: spec.nodeEgress,
    },
    inProvider,
  );
  const layout: pulumi.Output<VpcLayout> = network.layout;
  const zoneIndex = new Map(spec.availabilityZones.map((z, i) => [z, i]));

  // Node identity: Systems Manager access (no SSH, no public address).
  const role = new aws.iam.Role(
    'node-role',
    {
      description: `flat6 nodes of ${plan.name}`,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    },
    { provider },
  );
  new aws.iam.RolePolicyAttachment('node-ssm', { role: role.name, policyArn: aws.iam.ManagedPolicy.AmazonSSMManagedInstanceCore }, { provider });
  const profile = new aws.iam.InstanceProfile('node-profile', { role: role.name }, { provider });

  const images = new Map<Arch, { imageId: pulumi.Input<string>; imageFloats: boolean }>();
  const imageFor = (instanceType: string): { imageId: pulumi.Input<string>; imageFloats: boolean } => {
    const arch = archOf(instanceType);
    let image = images.get(arch);
    if (image === undefined) {
      const pinned = spec.images[arch];
      image = pinned
        ? { imageId: pinned, imageFloats: false }
        : { imageId: aws.ssm.getParameterOutput({ name: UBUNTU_AMI_PARAMETER[arch] }, { provider }).value, imageFloats: true };
      images.set(arch, image);
    }
    return image;
  };

  // Control planes: pinned addresses, so the load balancer and certSANs know them.
  const cpKeys = plan.controlPlanes.map((_, k) => `cp${k}`);
  const cpAddress = (k: number): pulumi.Output<string> => layout.apply((l) => formatAddress(l.controlPlanes[k].address));
  const api = new ApiEndpoint(
    'api',
    {
      clusterName: plan.name,
      vpcId: network.vpc.id,
      edgeSubnetIds: network.subnets.map((s) => s.edge.id),
      layout,
      securityGroupId: network.apiSecurityGroup.id,
      port: plan.apiPort,
      apiServerPort: plan.apiServerPort,
      targets: cpKeys.map((key, k) => ({ key, address: cpAddress(k) })),
      addressReservations: network.apiReservations,
    },
    inProvider,
  );

  // The endpoint is the load balancer's DNS name, so the user data waits for it.
  const userDataOf = (node: (l: VpcLayout) => Parameters<typeof buildUserData>[1]): pulumi.Output<string> =>
    pulumi.secret(
      pulumi
        .all([layout, secretInput, api.hostName])
        .apply(([l, s, host]) => buildUserData({ plan: awsClusterPlan(plan, l, host), templates, secrets: s as Secrets }, node(l), { certSans: apiCertSans(l, host) }).base64),
    );
  // Nothing boots before NAT64, the routes, the reservations and the API listener exist.
  const bootDependencies = [...network.nodeBootDependencies, api.listener];

  const controlPlane = new NodePool(
    'control-plane',
    {
      clusterName: plan.name,
      poolName: 'control-plane',
      machine: {
        instanceType: spec.controlPlane.instanceType,
        ...imageFor(spec.controlPlane.instanceType),
        rootVolumeGiB: spec.controlPlane.rootVolumeGiB,
        securityGroupIds: [network.nodeSecurityGroup.id, network.controlPlaneSecurityGroup.id],
        instanceProfileName: profile.name,
      },
      bootDependencies,
      placement: {
        kind: 'control-plane',
        nodes: cpKeys.map((key, k) => {
          const zone = spec.availabilityZones[k % spec.availabilityZones.length];
          return {
            key,
            subnetId: network.subnets[zoneIndex.get(zone)!].node.id,
            address: cpAddress(k),
            userData: userDataOf((l) => awsControlPlaneNode(plan, l, k)),
          };
        }),
      },
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
          machine: {
            instanceType: p.instanceType,
            ...imageFor(p.instanceType),
            rootVolumeGiB: p.rootVolumeGiB,
            securityGroupIds: [network.nodeSecurityGroup.id],
            instanceProfileName: profile.name,
          },
          bootDependencies,
          placement: {
            kind: 'workers',
            subnetIds: network.subnets.map((s) => s.node.id),
            minSize: p.minSize,
            maxSize: p.maxSize,
            desiredSize: p.desiredSize,
            userData: userDataOf((l) => awsWorkerNode(l, p.name)),
          },
        },
        inProvider,
      ),
  );

  const subnets = pulumi
    .all(network.subnets.map((s) => pulumi.all([s.node.id, s.node.ipv6CidrBlock, s.edge.id, s.edge.ipv6CidrBlock, s.edge.cidrBlock])))
    .apply((rows) =>
      rows.flatMap(([nodeId, nodeCidr, edgeId, edgeCidr, edgeV4], i) => [
        { zone: spec.availabilityZones[i], tier: 'nodes' as const, id: nodeId, ipv6Cidr: nodeCidr },
        { zone: spec.availabilityZones[i], tier: 'edge' as const, id: edgeId, ipv6Cidr: edgeCidr, ipv4Cidr: edgeV4 },
      ]),
    );
  const controlPlanes = pulumi.all([layout, pulumi.all(controlPlane.instances.map((i) => i.id))]).apply(([l, ids]) =>
    l.controlPlanes.map((c, k) => ({ key: cpKeys[k], instanceId: ids[k], address: formatAddress(c.address), zone: c.zone })),
  );
  const workerPools = pulumi.all(pools.map((p) => p.group!.name)).apply((names) =>
    spec.workerPools.map((p, i) => ({ name: p.name, autoScalingGroup: names[i], instanceType: p.instanceType, size: p.desiredSize })),
  );

  const outputs: ClusterOutputs = {
    region: spec.region,
    vpcId: network.vpc.id,
    vpcIpv6Cidr: network.ipv6Cidr,
    podSubnet: layout.apply((l) => formatPrefix(l.nodeTier)),
    subnets,
    apiEndpoint: api.endpoint,
    apiUrl: api.url,
    apiLoadBalancerDnsName: api.loadBalancer.dnsName,
    apiAddresses: api.addresses,
    controlPlanes,
    workerPools,
    layout: layout.apply(layoutSummary),
    kubeconfigCommands: controlPlane.instances[0].id.apply((id) => kubeconfigCommands(spec.region, id, plan.name)),
  };
  return { provider, network, api, controlPlane, workerPools: pools, outputs };
}
