/**
 * The AWS section of a stack file (`config: flat6:aws`) and the checks an AWS
 * stack needs on top of the core ones. Every problem is collected and reported
 * with its place in the stack file, like the core checks (the checks both
 * clouds share are in src/cloud/shared/checks.ts). Pure: no Pulumi.
 */
import { createPlan, type ClusterPlan } from '../../plan/plan.js';
import type { LoadedStack } from '../../spec/load.js';
import type { Path } from '../../spec/section.js';
import { CloudChecks } from '../shared/checks.js';
import { AWS_SECTION, toAwsSpec, type AwsSpec, type NatGatewayMode, type WorkerPoolSpec } from './section.js';
import { checkInstanceType, NITRO_FIX } from './instance-types.js';
import { layoutProblems, POD_PREFIX_LENGTH, zonePosition } from './layout.js';

export const AWS_KEY = AWS_SECTION.key;
/** The VPC resolver: the only resolver in an IPv6-only subnet that does DNS64. */
export const VPC_RESOLVER = 'fd00:ec2::253';

export type { AwsSpec, NatGatewayMode, WorkerPoolSpec };

export interface AwsStack {
  stack: LoadedStack;
  aws: AwsSpec;
  plan: ClusterPlan;
}

const EXAMPLE = `    region: us-east-2
    availabilityZones: [us-east-2a, us-east-2b, us-east-2c]
    controlPlane: { instanceType: t3.medium }
    workerPools:
      - { name: general, instanceType: t3.medium, size: 3 }`;

/**
 * Load flat6:aws, run the core checks and the AWS checks, and plan. Throws one
 * Flat6Error holding every problem (core and AWS) with its place in the file.
 */
export function loadAwsStack(stack: LoadedStack): AwsStack {
  const c = new CloudChecks(stack, 'AWS', AWS_KEY, 'docs/aws.md');
  const spec = toAwsSpec(c.load(AWS_SECTION, EXAMPLE));

  // Region and zones.
  const providerRegion = stack.config['aws:region'];
  if (typeof providerRegion === 'string' && providerRegion !== spec.region) {
    c.section('AWS_REGION', ['region'], `region ${spec.region} differs from aws:region ${providerRegion} in the same stack`, `use one region: set aws:region to ${spec.region} or remove it (flat6 configures the AWS provider from flat6:aws.region)`);
  }
  const seenZones = new Map<number, number>();
  spec.availabilityZones.forEach((z, i) => {
    try {
      const pos = zonePosition(z, spec.region);
      const first = seenZones.get(pos);
      if (first !== undefined) c.section('AWS_ZONE', ['availabilityZones', i], `zone ${z} is listed twice (first at availabilityZones.${first})`, 'list each zone once');
      else seenZones.set(pos, i);
    } catch (e) {
      c.section('AWS_ZONE', ['availabilityZones', i], (e as Error).message, `use zones of ${spec.region}, e.g. ${spec.region}a`);
    }
  });
  const ipv4Problems = layoutProblems({ region: spec.region, zones: spec.availabilityZones.filter((z) => z.startsWith(spec.region)), ipv4Cidr: spec.ipv4Cidr, controlPlaneCount: 0 }).filter(
    (m) => !m.startsWith('availability zone'),
  );
  for (const m of ipv4Problems) c.section('AWS_IPV4_CIDR', ['ipv4Cidr'], m, 'use a private /24 such as 10.0.0.0/24: AWS requires an IPv4 CIDR, and only the edge subnets use it');

  // Nitro instance types.
  const checkType = (t: string, path: Path): void => {
    const v = checkInstanceType(t);
    if (!v.ok) c.section('AWS_INSTANCE_TYPE', path, v.reason!, NITRO_FIX);
  };
  checkType(spec.controlPlane.instanceType, ['controlPlane', 'instanceType']);
  spec.workerPools.forEach((p, i) => {
    checkType(p.instanceType, ['workerPools', i, 'instanceType']);
    if (!(p.minSize <= p.desiredSize && p.desiredSize <= p.maxSize)) {
      c.section('AWS_POOL', ['workerPools', i, 'size'], `pool ${p.name}: minSize ${p.minSize} <= size ${p.desiredSize} <= maxSize ${p.maxSize} does not hold`, 'set minSize <= size <= maxSize');
    }
  });
  c.poolNames(spec.workerPools.map((p) => p.name));

  // Prefixes: IPv6 only.
  const over = 'nodes and the API load balancer are reached over IPv6 only';
  c.prefixList(spec.adminPrefixes, 'adminPrefixes', 'admin prefix', over);
  c.prefixList(spec.nodeEgress, 'nodeEgress', 'egress prefix', over);

  // What flat6:cluster must say for AWS.
  c.podPrefixLength(POD_PREFIX_LENGTH, `AWS delegates /${POD_PREFIX_LENGTH} prefixes to a node's network interface`);
  c.dns(VPC_RESOLVER, `in an IPv6-only subnet only the VPC resolver ${VPC_RESOLVER} answers with DNS64, which IPv4-only registries need`);
  c.noVipPair();
  c.controlPlaneRacks();
  c.reservedBlock(`use ${VPC_RESOLVER}`);

  c.finish();
  return { stack, aws: spec, plan: createPlan(stack) };
}
