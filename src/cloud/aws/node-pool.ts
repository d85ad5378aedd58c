/**
 * Machines of one role. Workers: one launch template and one auto scaling
 * group, so the number of resources never depends on the number of workers.
 * Control-plane nodes: one launch template and one instance each (they hold
 * pinned addresses and distinct kubeadm roles).
 *
 * Every launch template: a Nitro instance type, IMDSv2 required and reachable
 * over IPv6, one IPv6 address plus one delegated /80 (ipv6PrefixCount 1) for
 * the node's pods, resource-based host names with AAAA records, and the
 * node's cloud-init user data (a Pulumi secret: it holds the bootstrap token).
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { checkInstanceType, NITRO_FIX } from './instance-types.js';

export interface NodeMachine {
  readonly instanceType: string;
  readonly imageId: pulumi.Input<string>;
  /**
   * true when imageId follows a moving "current image" parameter: a newer
   * image then does not create a new launch template version (nodes of one
   * pool would otherwise run different images); set an explicit AMI in the
   * stack to move.
   */
  readonly imageFloats: boolean;
  readonly rootVolumeGiB: number;
  readonly securityGroupIds: pulumi.Input<string>[];
  readonly instanceProfileName: pulumi.Input<string>;
}

export interface WorkerPlacement {
  readonly kind: 'workers';
  /** node subnets the group spreads over */
  readonly subnetIds: pulumi.Input<string>[];
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredSize: number;
  /** user data shared by every worker of the pool, base64 as EC2 takes it (secret) */
  readonly userData: pulumi.Output<string>;
}

export interface ControlPlanePlacement {
  readonly kind: 'control-plane';
  readonly nodes: ReadonlyArray<{
    /** stable resource key, e.g. "cp0" */
    readonly key: string;
    readonly subnetId: pulumi.Input<string>;
    /** pinned IPv6 address (API load balancer target, certSANs) */
    readonly address: pulumi.Input<string>;
    readonly userData: pulumi.Output<string>;
  }>;
}

export interface NodePoolArgs {
  /** cluster name: display names only */
  readonly clusterName: string;
  /** display name of the pool, e.g. "control-plane" or "workers-general" */
  readonly poolName: string;
  readonly machine: NodeMachine;
  readonly placement: WorkerPlacement | ControlPlanePlacement;
  /**
   * Resources that must exist before a machine of the pool is launched: a
   * node reads its user data once, at first boot, and installs packages
   * through NAT64 and the egress-only gateway right away, so the NAT
   * gateways, routes and route table associations come first, with the
   * reservations of pinned addresses and the API listener (Network
   * nodeBootDependencies, ApiEndpoint listener). Set on every instance and
   * auto scaling group (a component's dependsOn does not reach its children).
   */
  readonly bootDependencies?: readonly pulumi.Resource[];
}

export class NodePoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodePoolError';
  }
}

/** Launch template arguments every flat6 node shares. */
export function launchTemplateArgs(
  args: NodePoolArgs,
  userData: pulumi.Output<string>,
  networkInterface: { subnetId?: pulumi.Input<string>; ipv6Addresses?: pulumi.Input<string>[] },
  display: string,
): aws.ec2.LaunchTemplateArgs {
  const m = args.machine;
  const tags = { Name: display, 'flat6:pool': args.poolName };
  return {
    instanceType: m.instanceType,
    imageId: m.imageId,
    updateDefaultVersion: true,
    iamInstanceProfile: { name: m.instanceProfileName },
    metadataOptions: {
      httpEndpoint: 'enabled',
      httpProtocolIpv6: 'enabled',
      httpTokens: 'required',
      // One hop: pods (routed through the node) cannot reach the metadata service.
      httpPutResponseHopLimit: 1,
      instanceMetadataTags: 'disabled',
    },
    privateDnsNameOptions: {
      hostnameType: 'resource-name',
      enableResourceNameDnsAaaaRecord: true,
      enableResourceNameDnsARecord: false,
    },
    networkInterfaces: [
      {
        deviceIndex: 0,
        deleteOnTermination: 'true',
        securityGroups: m.securityGroupIds,
        ...(networkInterface.subnetId !== undefined ? { subnetId: networkInterface.subnetId } : {}),
        ...(networkInterface.ipv6Addresses !== undefined ? { ipv6Addresses: networkInterface.ipv6Addresses } : { ipv6AddressCount: 1 }),
        // The node's /80: every pod address on this node comes from it.
        ipv6PrefixCount: 1,
      },
    ],
    blockDeviceMappings: [
      { deviceName: '/dev/sda1', ebs: { volumeSize: m.rootVolumeGiB, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' } },
    ],
    userData: pulumi.secret(userData),
    tagSpecifications: [
      { resourceType: 'instance', tags },
      { resourceType: 'volume', tags },
      { resourceType: 'network-interface', tags },
    ],
    tags,
  };
}

export class NodePool extends pulumi.ComponentResource {
  readonly launchTemplates: aws.ec2.LaunchTemplate[] = [];
  readonly group?: aws.autoscaling.Group;
  readonly instances: aws.ec2.Instance[] = [];
  /** the base64 user data of each launch template, in order (secret) */
  readonly userData: pulumi.Output<string>[] = [];

  constructor(name: string, args: NodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flat6:aws:NodePool', name, {}, opts);
    const verdict = checkInstanceType(args.machine.instanceType);
    if (!verdict.ok) throw new NodePoolError(`node pool ${args.poolName}: ${verdict.reason}; ${NITRO_FIX}`);
    const child = { parent: this };
    const ltOptions: pulumi.CustomResourceOptions = args.machine.imageFloats ? { ignoreChanges: ['imageId'] } : {};
    const p = args.placement;
    const after = [...(args.bootDependencies ?? [])];
    if (p.kind === 'workers') {
      const display = `${args.clusterName}-${args.poolName}`;
      const lt = new aws.ec2.LaunchTemplate(`${name}-lt`, launchTemplateArgs(args, p.userData, {}, display), { ...child, ...ltOptions });
      this.launchTemplates.push(lt);
      this.userData.push(p.userData);
      this.group = new aws.autoscaling.Group(
        `${name}-asg`,
        {
          vpcZoneIdentifiers: p.subnetIds,
          minSize: p.minSize,
          maxSize: p.maxSize,
          desiredCapacity: p.desiredSize,
          launchTemplate: { id: lt.id, version: lt.latestVersion.apply((v) => String(v)) },
          healthCheckType: 'EC2',
          // No instanceRefresh: a new launch template version only applies to workers
          // launched from then on. Rolling them automatically on a routine `pulumi up`
          // would replace joined workers with nodes whose bootstrap token (24 h TTL)
          // may have expired; docs/aws.md says how to roll them deliberately.
          tags: [
            { key: 'Name', value: display, propagateAtLaunch: true },
            { key: 'flat6:pool', value: args.poolName, propagateAtLaunch: true },
          ],
        },
        { ...child, dependsOn: after },
      );
    } else {
      for (const n of p.nodes) {
        const display = `${args.clusterName}-${n.key}`;
        const lt = new aws.ec2.LaunchTemplate(
          `${name}-${n.key}`,
          launchTemplateArgs(args, n.userData, { subnetId: n.subnetId, ipv6Addresses: [n.address] }, display),
          { ...child, ...ltOptions },
        );
        this.launchTemplates.push(lt);
        this.userData.push(n.userData);
        this.instances.push(
          new aws.ec2.Instance(
            `${name}-${n.key}`,
            { launchTemplate: { id: lt.id, version: lt.latestVersion.apply((v) => String(v)) }, tags: { Name: display } },
            {
              ...child,
              // A control plane holds etcd: a routine `pulumi up` never replaces
              // it for a new launch template version (user data is read at first
              // boot only). `pulumi up --replace <urn>` rebuilds one on purpose,
              // removing the old one first since the new one takes its pinned address.
              ignoreChanges: ['launchTemplate'],
              deleteBeforeReplace: true,
              dependsOn: after,
            },
          ),
        );
      }
    }
    this.registerOutputs({});
  }
}
