/**
 * The Kubernetes API endpoint on AWS: an internal dual-stack Network Load
 * Balancer in the edge subnets (NLBs cannot live in IPv6-only subnets), a TCP
 * listener on the API port, and an IPv6 target group of the control-plane
 * nodes' pinned addresses with HTTPS /readyz health checks. Its IPv6 address
 * in each edge subnet is pinned by the layout (and reserved by the network).
 *
 * Nodes and kubeadm reach it by its DNS name (`<name>:port`): the VPC
 * resolver answers AAAA with the address of every zone whose load balancer
 * node is up, so losing one zone does not lose the endpoint, which a single
 * zone's literal would. The certSANs hold the name and every zone's address.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { formatAddress } from '../../core/ip.js';
import { apiEndpointOf, apiHostName } from './plan.js';
import type { ApiEndpointBaseArgs } from '../shared/args.js';
import type { VpcLayout } from './layout.js';

export interface ApiEndpointArgs extends ApiEndpointBaseArgs {
  readonly vpcId: pulumi.Input<string>;
  /** edge subnets in zone order (the layout's zone order) */
  readonly edgeSubnetIds: pulumi.Input<string>[];
  readonly layout: pulumi.Output<VpcLayout>;
  /** the reservations of the load balancer's pinned addresses: created first */
  readonly addressReservations?: pulumi.Resource[];
}

export class ApiEndpoint extends pulumi.ComponentResource {
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroup: aws.lb.TargetGroup;
  readonly listener: aws.lb.Listener;
  readonly attachments: aws.lb.TargetGroupAttachment[];
  /** the load balancer's DNS name, lower case: the host nodes and kubeadm use */
  readonly hostName: pulumi.Output<string>;
  /** its pinned IPv6 address in each zone, in zone order */
  readonly addresses: pulumi.Output<string[]>;
  /** "<dns name>:port", kubeadm's controlPlaneEndpoint */
  readonly endpoint: pulumi.Output<string>;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: ApiEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super('flat6:aws:ApiEndpoint', name, {}, opts);
    const child = { parent: this };
    const tags = { Name: `${args.clusterName}-api` };

    this.loadBalancer = new aws.lb.LoadBalancer(
      `${name}-nlb`,
      {
        loadBalancerType: 'network',
        internal: true,
        ipAddressType: 'dualstack',
        securityGroups: [args.securityGroupId],
        subnetMappings: args.edgeSubnetIds.map((subnetId, i) => ({
          subnetId,
          ipv6Address: args.layout.apply((l) => formatAddress(l.zones[i].apiAddress)),
        })),
        enableCrossZoneLoadBalancing: true,
        tags,
      },
      { ...child, dependsOn: args.addressReservations ?? [] },
    );
    this.targetGroup = new aws.lb.TargetGroup(
      `${name}-apiservers`,
      {
        vpcId: args.vpcId,
        protocol: 'TCP',
        port: args.apiServerPort,
        targetType: 'ip',
        ipAddressType: 'ipv6',
        // The API servers see the load balancer's address: hairpinned requests
        // (a control plane reaching itself through the endpoint) keep working.
        preserveClientIp: 'false',
        deregistrationDelay: 30,
        healthCheck: {
          enabled: true,
          protocol: 'HTTPS',
          path: '/readyz',
          port: 'traffic-port',
          matcher: '200',
          interval: 10,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
        },
        tags,
      },
      child,
    );
    this.listener = new aws.lb.Listener(
      `${name}-tcp`,
      {
        loadBalancerArn: this.loadBalancer.arn,
        port: args.port,
        protocol: 'TCP',
        defaultActions: [{ type: 'forward', targetGroupArn: this.targetGroup.arn }],
        tags,
      },
      child,
    );
    this.attachments = args.targets.map(
      (t) => new aws.lb.TargetGroupAttachment(`${name}-${t.key}`, { targetGroupArn: this.targetGroup.arn, targetId: t.address, port: args.apiServerPort }, child),
    );
    this.hostName = this.loadBalancer.dnsName.apply(apiHostName);
    this.addresses = args.layout.apply((l) => l.zones.map((z) => formatAddress(z.apiAddress)));
    this.endpoint = this.hostName.apply((h) => apiEndpointOf(h, args.port));
    this.url = this.endpoint.apply((e) => `https://${e}`);
    this.registerOutputs({ endpoint: this.endpoint, dnsName: this.loadBalancer.dnsName });
  }
}
