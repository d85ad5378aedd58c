/**
 * The Kubernetes API endpoint on OCI: a private Network Load Balancer in the
 * edge subnet that speaks IPv6 only (nlbIpVersion IPV6) at a pinned address
 * (<edge subnet>::6443, `assignedIpv6`), a TCP listener on the API port and a
 * backend set over IPv6 with every control-plane node's pinned address on the
 * API server port, health-checked with HTTPS GET /readyz. The NLB is
 * regional: one address serves every availability domain, so kubeadm's
 * controlPlaneEndpoint is that literal, "[address]:port".
 */
import * as oci from '@pulumi/oci';
import * as pulumi from '@pulumi/pulumi';
import { formatAddress, formatPrefix } from '../../core/ip.js';
import type { ApiEndpointBaseArgs } from '../shared/args.js';
import type { VcnLayout } from './layout.js';
import { ociApiEndpoint } from './plan.js';

/** `targets` become the backend set's backends. */
export interface ApiEndpointArgs extends ApiEndpointBaseArgs {
  readonly compartmentId: string;
  readonly edgeSubnetId: pulumi.Input<string>;
  readonly layout: pulumi.Output<VcnLayout>;
  readonly freeformTags: Record<string, string>;
}

export class ApiEndpoint extends pulumi.ComponentResource {
  readonly loadBalancer: oci.networkloadbalancer.NetworkLoadBalancer;
  readonly backendSet: oci.networkloadbalancer.BackendSet;
  readonly listener: oci.networkloadbalancer.Listener;
  readonly backends: oci.networkloadbalancer.Backend[];
  /** the pinned IPv6 address */
  readonly address: pulumi.Output<string>;
  /** "[address]:port", kubeadm's controlPlaneEndpoint */
  readonly endpoint: pulumi.Output<string>;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: ApiEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flat6:oci:ApiEndpoint', name, {}, opts);
    const child = { parent: this };
    this.address = args.layout.apply((l) => formatAddress(l.apiAddress));
    this.loadBalancer = new oci.networkloadbalancer.NetworkLoadBalancer(
      `${name}-nlb`,
      {
        compartmentId: args.compartmentId,
        displayName: `${args.clusterName}-api`,
        subnetId: args.edgeSubnetId,
        isPrivate: true,
        nlbIpVersion: 'IPV6',
        assignedIpv6: this.address,
        subnetIpv6cidr: args.layout.apply((l) => formatPrefix(l.edgeSubnet)),
        networkSecurityGroupIds: [args.securityGroupId],
        // The API servers see the load balancer's address: a control plane
        // reaching itself through the endpoint (hairpin) keeps working.
        isPreserveSourceDestination: false,
        freeformTags: args.freeformTags,
      },
      child,
    );
    const nlbId = this.loadBalancer.id;
    this.backendSet = new oci.networkloadbalancer.BackendSet(
      `${name}-apiservers`,
      {
        networkLoadBalancerId: nlbId,
        name: 'apiservers',
        policy: 'FIVE_TUPLE',
        ipVersion: 'IPV6',
        isPreserveSource: false,
        healthChecker: {
          protocol: 'HTTPS',
          port: args.apiServerPort,
          urlPath: '/readyz',
          returnCode: 200,
          intervalInMillis: 10000,
          timeoutInMillis: 3000,
          retries: 3,
        },
      },
      child,
    );
    this.listener = new oci.networkloadbalancer.Listener(
      `${name}-tcp`,
      { networkLoadBalancerId: nlbId, name: 'api', defaultBackendSetName: this.backendSet.name, port: args.port, protocol: 'TCP', ipVersion: 'IPV6' },
      child,
    );
    this.backends = args.targets.map(
      (b) =>
        new oci.networkloadbalancer.Backend(
          `${name}-${b.key}`,
          { networkLoadBalancerId: nlbId, backendSetName: this.backendSet.name, name: b.key, ipAddress: b.address, port: args.apiServerPort },
          child,
        ),
    );
    this.endpoint = args.layout.apply((l) => ociApiEndpoint(l, args.port));
    this.url = this.endpoint.apply((e) => `https://${e}`);
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
