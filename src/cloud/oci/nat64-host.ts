/**
 * The NAT64/DNS64 instance (the decision and its reasons: nat64.ts): a small
 * flexible VM in the edge subnet with a public IPv4 address (the translated
 * side), its pinned IPv6 address <edge subnet>::53 (the nodes' resolver), the
 * source/destination check skipped, and the NAT64 /96 as an `oci.core.Ipv6`
 * prefix on its VNIC, so the VCN delivers translated traffic to it.
 */
import * as oci from '@pulumi/oci';
import * as pulumi from '@pulumi/pulumi';
import { formatAddress, formatPrefix } from '../../core/ip.js';
import type { VcnLayout } from './layout.js';
import { NAT64_PREFIX_LENGTH } from './layout.js';
import { nat64UserData } from './nat64.js';
import { metadataOf, primaryVnicId, shapeArgs, type MachineSiteArgs } from './node-pool.js';

/** subnetId: the edge subnet. */
export interface Nat64HostArgs extends MachineSiteArgs {
  readonly availabilityDomain: string;
  readonly layout: pulumi.Output<VcnLayout>;
  readonly dependsOn?: readonly pulumi.Resource[];
}

export class Nat64Host extends pulumi.ComponentResource {
  readonly instance: oci.core.Instance;
  /** the NAT64 /96 on the instance's VNIC */
  readonly prefix: oci.core.Ipv6;
  readonly address: pulumi.Output<string>;
  readonly prefixCidr: pulumi.Output<string>;

  constructor(name: string, args: Nat64HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flat6:oci:Nat64', name, {}, opts);
    const child = { parent: this };
    const display = `${args.clusterName}-nat64`;
    this.address = args.layout.apply((l) => formatAddress(l.nat64Address));
    this.prefixCidr = args.layout.apply((l) => formatPrefix(l.nat64Prefix));
    const edgeCidr = args.layout.apply((l) => formatPrefix(l.edgeSubnet));
    this.instance = new oci.core.Instance(
      `${name}-instance`,
      {
        compartmentId: args.compartmentId,
        availabilityDomain: args.availabilityDomain,
        displayName: display,
        ...shapeArgs(args.machine),
        createVnicDetails: {
          subnetId: args.subnetId,
          // the translated (IPv4) side leaves through the internet gateway
          assignPublicIp: 'true',
          assignIpv6ip: true,
          ipv6addressIpv6subnetCidrPairDetails: [{ ipv6subnetCidr: edgeCidr, ipv6address: this.address }],
          // it forwards packets that are neither from nor to its own addresses
          skipSourceDestCheck: true,
          nsgIds: args.machine.nsgIds,
          hostnameLabel: 'nat64',
        },
        instanceOptions: { areLegacyImdsEndpointsDisabled: true },
        metadata: metadataOf(args.layout.apply((l) => nat64UserData(l).base64), args.sshAuthorizedKeys),
        freeformTags: { ...args.freeformTags, 'flat6-role': 'nat64' },
      },
      { ...child, ignoreChanges: args.machine.imageFloats ? ['sourceDetails'] : [], dependsOn: [...(args.dependsOn ?? [])] },
    );
    const vnicId = primaryVnicId(args.compartmentId, this.instance, 'nat64', this);
    this.prefix = new oci.core.Ipv6(
      `${name}-prefix`,
      {
        vnicId,
        ipAddress: args.layout.apply((l) => formatAddress(l.nat64Prefix.base)),
        cidrPrefixLength: NAT64_PREFIX_LENGTH,
        ipv6subnetCidr: edgeCidr,
        displayName: `${display}-prefix`,
        freeformTags: args.freeformTags,
      },
      child,
    );
    this.registerOutputs({ address: this.address, prefix: this.prefixCidr });
  }
}
