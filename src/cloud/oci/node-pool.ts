/**
 * Machines of one role on OCI. Workers: one instance configuration and one
 * instance pool, so the number of resources never depends on the number of
 * workers (each worker gives its own VNIC its /80 at boot). Control-plane
 * nodes: one instance each, with its pinned IPv6 address on its VNIC and its
 * pinned /80 as an `oci.core.Ipv6` (cidrPrefixLength 80) on that VNIC.
 *
 * Every machine: a flexible VM shape, the instance metadata service v2 only
 * (legacy v1 endpoints off), no public IPv4, the network security groups of
 * its role, and its cloud-init user data in metadata "user_data" (a Pulumi
 * secret: it holds the bootstrap token).
 */
import * as oci from '@pulumi/oci';
import * as pulumi from '@pulumi/pulumi';
import { POD_PREFIX_LENGTH } from './layout.js';

export interface OciMachineArgs {
  readonly shape: string;
  readonly ocpus: number;
  readonly memoryGiB: number;
  readonly bootVolumeGiB: number;
  readonly imageId: pulumi.Input<string>;
  /** true when imageId follows "the newest image": a newer one then replaces nothing */
  readonly imageFloats: boolean;
  readonly nsgIds: pulumi.Input<string>[];
}

export interface ControlPlanePlacement {
  readonly kind: 'control-plane';
  readonly nodes: ReadonlyArray<{
    /** stable resource key, e.g. "cp0" */
    readonly key: string;
    readonly availabilityDomain: string;
    readonly faultDomain?: string;
    /** pinned IPv6 address (load balancer backend, certSANs, node-ip) */
    readonly address: pulumi.Input<string>;
    /** pinned /80 for pods */
    readonly podPrefix: pulumi.Input<string>;
    readonly userData: pulumi.Output<string>;
  }>;
}

export interface WorkerPlacement {
  readonly kind: 'workers';
  readonly availabilityDomains: readonly string[];
  readonly faultDomains: readonly string[];
  readonly size: number;
  /** user data shared by every worker of the pool, base64 (secret) */
  readonly userData: pulumi.Output<string>;
}

/** Where and on what OCI machines run: every node pool and the NAT64 instance. */
export interface MachineSiteArgs {
  readonly clusterName: string;
  readonly compartmentId: string;
  readonly subnetId: pulumi.Input<string>;
  readonly machine: OciMachineArgs;
  /** the ssh_authorized_keys metadata value ("" for none) */
  readonly sshAuthorizedKeys: string;
  readonly freeformTags: Record<string, string>;
}

export interface NodePoolArgs extends MachineSiteArgs {
  readonly poolName: string;
  /** the node subnet's IPv6 /64 (OCI picks the VNIC's address from it) */
  readonly subnetIpv6Cidr: pulumi.Input<string>;
  readonly placement: ControlPlanePlacement | WorkerPlacement;
  /**
   * What must exist before a machine of the pool is launched: the subnets and
   * their routes, every security rule, the NAT64 instance and its prefix, the
   * API listener and backends. Set on every instance and instance pool (a
   * component's dependsOn does not reach its children).
   */
  readonly bootDependencies?: readonly pulumi.Resource[];
}

/** Shape, sizes and image of a launch, as Instance takes them. */
export function shapeArgs(m: OciMachineArgs): Pick<oci.core.InstanceArgs, 'shape' | 'shapeConfig' | 'sourceDetails'> {
  return {
    shape: m.shape,
    shapeConfig: { ocpus: m.ocpus, memoryInGbs: m.memoryGiB },
    sourceDetails: { sourceType: 'image', sourceId: m.imageId, bootVolumeSizeInGbs: String(m.bootVolumeGiB) },
  };
}

export function metadataOf(userData: pulumi.Input<string>, sshAuthorizedKeys: string): pulumi.Input<Record<string, pulumi.Input<string>>> {
  return { user_data: pulumi.secret(userData), ...(sshAuthorizedKeys ? { ssh_authorized_keys: sshAuthorizedKeys } : {}) };
}

/** The OCID of an instance's primary VNIC (Instance has no output for it: the getVnicAttachments invoke). */
export function primaryVnicId(compartmentId: string, instance: oci.core.Instance, what: string, parent: pulumi.Resource): pulumi.Output<string> {
  return oci.core.getVnicAttachmentsOutput({ compartmentId, instanceId: instance.id }, { parent }).vnicAttachments.apply((a) => {
    const primary = a.find((x) => x.nicIndex === 0) ?? a[0];
    if (!primary) throw new Error(`instance ${what} has no VNIC attachment`);
    return primary.vnicId;
  });
}

export class NodePool extends pulumi.ComponentResource {
  readonly instances: oci.core.Instance[] = [];
  /** the pinned /80 of each control plane, on its VNIC */
  readonly podPrefixes: oci.core.Ipv6[] = [];
  readonly instanceConfiguration?: oci.core.InstanceConfiguration;
  readonly pool?: oci.core.InstancePool;
  /** the base64 user data of each instance or of the pool (secret) */
  readonly userData: pulumi.Output<string>[] = [];

  constructor(name: string, args: NodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flat6:oci:NodePool', name, {}, opts);
    const child = { parent: this };
    const m = args.machine;
    const after = [...(args.bootDependencies ?? [])];
    const p = args.placement;
    const tags = { ...args.freeformTags, 'flat6-pool': args.poolName };
    if (p.kind === 'control-plane') {
      for (const n of p.nodes) {
        const display = `${args.clusterName}-${n.key}`;
        const instance = new oci.core.Instance(
          `${name}-${n.key}`,
          {
            compartmentId: args.compartmentId,
            availabilityDomain: n.availabilityDomain,
            ...(n.faultDomain ? { faultDomain: n.faultDomain } : {}),
            displayName: display,
            ...shapeArgs(m),
            createVnicDetails: {
              subnetId: args.subnetId,
              assignPublicIp: 'false',
              assignIpv6ip: true,
              ipv6addressIpv6subnetCidrPairDetails: [{ ipv6subnetCidr: args.subnetIpv6Cidr, ipv6address: n.address }],
              nsgIds: m.nsgIds,
              skipSourceDestCheck: false,
              hostnameLabel: n.key,
            },
            instanceOptions: { areLegacyImdsEndpointsDisabled: true },
            metadata: metadataOf(n.userData, args.sshAuthorizedKeys),
            freeformTags: tags,
          },
          {
            ...child,
            // A control plane holds etcd: a routine `pulumi up` never replaces it for
            // new user data (read at first boot only) or a newer image.
            ignoreChanges: ['metadata', ...(m.imageFloats ? ['sourceDetails'] : [])],
            deleteBeforeReplace: true,
            dependsOn: after,
          },
        );
        this.instances.push(instance);
        this.userData.push(n.userData);
        const vnicId = primaryVnicId(args.compartmentId, instance, n.key, this);
        this.podPrefixes.push(
          new oci.core.Ipv6(
            `${name}-${n.key}-pods`,
            {
              vnicId,
              ipAddress: pulumi.output(n.podPrefix).apply((x) => x.split('/')[0]),
              cidrPrefixLength: POD_PREFIX_LENGTH,
              ipv6subnetCidr: args.subnetIpv6Cidr,
              displayName: `${display}-pods`,
              freeformTags: tags,
            },
            child,
          ),
        );
      }
    } else {
      const display = `${args.clusterName}-${args.poolName}`;
      this.instanceConfiguration = new oci.core.InstanceConfiguration(
        `${name}-config`,
        {
          compartmentId: args.compartmentId,
          displayName: display,
          instanceDetails: {
            instanceType: 'compute',
            launchDetails: {
              compartmentId: args.compartmentId,
              shape: m.shape,
              shapeConfig: { ocpus: m.ocpus, memoryInGbs: m.memoryGiB },
              sourceDetails: { sourceType: 'image', imageId: m.imageId, bootVolumeSizeInGbs: String(m.bootVolumeGiB) },
              createVnicDetails: { assignPublicIp: false, assignIpv6ip: true, nsgIds: m.nsgIds, skipSourceDestCheck: false },
              instanceOptions: { areLegacyImdsEndpointsDisabled: true },
              metadata: metadataOf(p.userData, args.sshAuthorizedKeys),
              freeformTags: tags,
            },
          },
          freeformTags: tags,
        },
        { ...child, ...(m.imageFloats ? { ignoreChanges: ['instanceDetails.launchDetails.sourceDetails.imageId'] } : {}) },
      );
      this.userData.push(p.userData);
      this.pool = new oci.core.InstancePool(
        `${name}-pool`,
        {
          compartmentId: args.compartmentId,
          instanceConfigurationId: this.instanceConfiguration.id,
          size: p.size,
          displayName: display,
          placementConfigurations: p.availabilityDomains.map((ad) => ({
            availabilityDomain: ad,
            ...(p.faultDomains.length ? { faultDomains: [...p.faultDomains] } : {}),
            primaryVnicSubnets: { subnetId: args.subnetId, isAssignIpv6ip: true, ipv6addressIpv6subnetCidrPairDetails: [{ ipv6subnetCidr: args.subnetIpv6Cidr }] },
          })),
          freeformTags: tags,
        },
        { ...child, dependsOn: after },
      );
    }
    this.registerOutputs({});
  }
}
