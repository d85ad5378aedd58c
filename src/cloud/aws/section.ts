/**
 * The `flat6:aws` section, declared once: its type, JSON Schema, defaults and
 * the field reference in docs/aws.md come from this declaration.
 */
import { z } from 'zod';
import { int } from '../../spec/fields.js';
import { defineSection } from '../../spec/section.js';
import { ipv6PrefixList, poolName, tagValue } from '../shared/section-fields.js';

const instanceType = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}\.[a-z0-9-]{1,30}$/, 'is not an EC2 instance type (family.size, e.g. m7i.large)')
  .describe('EC2 instance type built on the AWS Nitro System (IPv6-only subnets and /80 prefix delegation need Nitro), e.g. m7i.large.');
const rootVolumeGiB = int(8, 16384).default(30).describe('Size of the gp3 root volume in GiB.');
const ami = z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'is not an AMI id (ami- and 8-17 hex digits)');

const workerPool = z
  .strictObject({
    name: poolName,
    instanceType,
    size: int(0, 100000).describe('Desired number of workers in the pool.'),
    minSize: int(0, 100000).optional().describe('Lower bound of the auto scaling group.').meta({ defaultText: 'size' }),
    maxSize: int(0, 100000).optional().describe('Upper bound of the auto scaling group.').meta({ defaultText: 'size' }),
    rootVolumeGiB,
  })
  .describe('One auto scaling group of workers.');

export const awsSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'is not an AWS region (e.g. us-east-2)').describe('AWS region, e.g. us-east-2.'),
  availabilityZones: z
    .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}[a-z]$/, 'is not an availability zone (region + letter, e.g. us-east-2a)'))
    .min(1)
    .max(26)
    .describe("Zones of the region (<region>a, <region>b, ...). A zone's subnets follow from its letter, so adding or removing a zone never moves another."),
  ipv4Cidr: z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'is not an IPv4 CIDR (a.b.c.d/len)')
    .default('10.0.0.0/24')
    .describe('The IPv4 CIDR AWS requires on every VPC. Only the edge subnets (load balancer, NAT gateway) use it: IPv4 /28 number i for zone letter i.'),
  natGateway: z
    .enum(['single', 'per-zone'])
    .default('single')
    .describe('NAT64 gateways: one for the VPC (cheapest) or one per zone (no cross-zone dependency).'),
  controlPlane: z
    .strictObject({ instanceType, rootVolumeGiB })
    .describe('Control-plane machines; how many comes from flat6:cluster controlPlane.count.'),
  workerPools: z.array(workerPool).max(100).describe('Worker pools, one auto scaling group each. Workers are not listed in flat6:cluster.'),
  adminPrefixes: ipv6PrefixList('IPv6 prefixes allowed to reach the API load balancer on the API port (besides the nodes). Empty: nodes only.').default([]),
  nodeEgress: ipv6PrefixList('IPv6 prefixes nodes may send to outside the cluster (default ::/0: the internet over the egress-only gateway, IPv4 over NAT64).').default(['::/0']),
  images: z
    .strictObject({ x86_64: ami.optional().describe('AMI for x86_64 instance types.'), arm64: ami.optional().describe('AMI for arm64 (Graviton) instance types.') })
    .prefault({})
    .describe("AMI per architecture. Default: Ubuntu 24.04 LTS from Canonical's public SSM parameters."),
  tags: z
    .record(
      z.string().regex(/^[A-Za-z0-9 _.:/=+@-]{1,128}$/, 'is not an AWS tag key (1-128 of letters, digits, spaces and _.:/=+-@)'),
      tagValue('an AWS tag value'),
    )
    .default({})
    .describe('Extra tags on every resource.'),
});

export const AWS_SECTION = defineSection('flat6:aws', awsSchema, {
  id: 'https://flat6.dev/schema/aws.json',
  description: 'Where and on what an AWS stack runs. The cluster itself stays in flat6:cluster.',
});

export type AwsConfig = z.output<typeof awsSchema>;
export type NatGatewayMode = AwsConfig['natGateway'];

export type WorkerPoolSpec = Omit<AwsConfig['workerPools'][number], 'size' | 'minSize' | 'maxSize'> & {
  desiredSize: number;
  minSize: number;
  maxSize: number;
  /** dotted path inside flat6:aws */
  path: string;
};

/** The AWS section as the program reads it: the declaration's output with pool sizes resolved. */
export type AwsSpec = Omit<AwsConfig, 'workerPools'> & { workerPools: WorkerPoolSpec[] };

export function toAwsSpec(c: AwsConfig): AwsSpec {
  return {
    ...c,
    workerPools: c.workerPools.map(({ size, minSize, maxSize, ...p }, i) => ({ ...p, desiredSize: size, minSize: minSize ?? size, maxSize: maxSize ?? size, path: `workerPools.${i}` })),
  };
}
