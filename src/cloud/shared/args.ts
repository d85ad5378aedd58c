/**
 * What both clouds' components and cluster builders take alike: the
 * cluster's ports and prefix lists (network), the API endpoint's ports and
 * pinned backends, and the builder's options. Each cloud extends these with
 * its own fields.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { TemplateSet } from '../../render/templates.js';

export interface ClusterOptions {
  /** operator template overlay (as `flat6 render --templates`) */
  templates?: TemplateSet;
}

/** The ports and prefixes the security rules of a cloud network are made of. */
export interface NetworkPolicyArgs {
  /** cluster name: display names only */
  readonly clusterName: string;
  /** port of the API load balancer (controlPlaneEndpoint) */
  readonly apiPort: number;
  /** port each kube-apiserver binds */
  readonly apiServerPort: number;
  /** IPv6 prefixes allowed to the API load balancer besides the nodes */
  readonly adminPrefixes: readonly string[];
  /** IPv6 prefixes nodes may reach outside the cluster's network */
  readonly nodeEgress: readonly string[];
}

/** The API load balancer: its ports, its security group and the control planes behind it. */
export interface ApiEndpointBaseArgs {
  /** cluster name: display names only */
  readonly clusterName: string;
  readonly securityGroupId: pulumi.Input<string>;
  /** listener port (controlPlaneEndpoint) */
  readonly port: number;
  /** port of each kube-apiserver (the target/backend port) */
  readonly apiServerPort: number;
  /** control-plane nodes by stable key (e.g. "cp0") and pinned IPv6 address */
  readonly targets: ReadonlyArray<{ key: string; address: pulumi.Input<string> }>;
}
