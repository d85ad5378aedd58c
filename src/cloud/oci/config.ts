/**
 * The OCI section of a stack file (`config: flat6:oci`) and the checks an OCI
 * stack needs on top of the core ones and those both clouds share
 * (src/cloud/shared/checks.ts). Every problem is collected and reported with
 * its place in the stack file. Pure: no Pulumi.
 */
import { addressAt, formatAddress, parseAddress } from '../../core/ip.js';
import { createPlan, type ClusterPlan } from '../../plan/plan.js';
import type { LoadedStack } from '../../spec/load.js';
import type { Path } from '../../spec/section.js';
import { CloudChecks } from '../shared/checks.js';
import { SENTINEL_BLOCK } from '../shared/sentinels.js';
import { ipv4Problems, nodeCapacity, POD_PREFIX_LENGTH } from './layout.js';
import { OCI_SECTION, type OciMachine, type OciSpec } from './section.js';

export const OCI_KEY = OCI_SECTION.key;
/**
 * What an OCI stack writes for network.dns: a stand-in for the DNS64 resolver
 * flat6 creates (the NAT64 instance, <edge subnet>::53), whose address is
 * known only once OCI allocates the VCN's /56. The program writes the real
 * address into the nodes' files.
 */
export const DNS64_STANDIN = formatAddress(addressAt(SENTINEL_BLOCK, 0x53n));

export type { OciSpec };

export interface OciStack {
  stack: LoadedStack;
  oci: OciSpec;
  plan: ClusterPlan;
}

const EXAMPLE = `    region: us-ashburn-1
    compartmentId: ocid1.compartment.oc1..<unique id>
    tenancyId: ocid1.tenancy.oc1..<unique id>
    availabilityDomains: ["Uocm:US-ASHBURN-AD-1"]
    controlPlane: { shape: VM.Standard.E5.Flex }
    workerPools:
      - { name: general, shape: VM.Standard.E5.Flex, size: 3 }`;

/** "us-ashburn-1" -> "US-ASHBURN", the part of an availability domain's name that names its region. */
export function adRegionPart(region: string): string {
  return region.replace(/-\d+$/, '').toUpperCase();
}

/** A flexible shape's memory must be 1 to 64 GiB per OCPU; fixed shapes are refused (their size is not the stack's). */
export function shapeProblem(m: Pick<OciMachine, 'shape' | 'ocpus' | 'memoryGiB'>): { field: 'shape' | 'memoryGiB'; message: string } | undefined {
  if (!m.shape.endsWith('.Flex')) return { field: 'shape', message: `shape ${m.shape} is not a flexible shape; flat6 sizes machines with ocpus and memoryGiB` };
  if (m.memoryGiB < m.ocpus || m.memoryGiB > 64 * m.ocpus) return { field: 'memoryGiB', message: `${m.memoryGiB} GiB for ${m.ocpus} OCPU(s): OCI allows 1 to 64 GiB per OCPU` };
  return undefined;
}

/** x86_64 or aarch64 from the shape name (Ampere A1/A2 are Arm). */
export function shapeArch(shape: string): 'x86_64' | 'aarch64' {
  return /^VM\.Standard\.A\d+\./.test(shape) ? 'aarch64' : 'x86_64';
}

/**
 * Load flat6:oci, run the core checks and the OCI checks, and plan. Throws one
 * Flat6Error holding every problem (core and OCI) with its place in the file.
 */
export function loadOciStack(stack: LoadedStack): OciStack {
  const c = new CloudChecks(stack, 'OCI', OCI_KEY, 'docs/oci.md');
  const spec = c.load(OCI_SECTION, EXAMPLE);

  // Region, availability and fault domains.
  const providerRegion = stack.config['oci:region'];
  if (typeof providerRegion === 'string' && providerRegion !== spec.region) {
    c.section('OCI_REGION', ['region'], `region ${spec.region} differs from oci:region ${providerRegion} in the same stack`, `use one region: set oci:region to ${spec.region} or remove it (flat6 configures the OCI provider from flat6:oci.region)`);
  }
  const regionPart = adRegionPart(spec.region);
  const once = (list: readonly string[], field: string, what: string): void => {
    const seen = new Map<string, number>();
    list.forEach((x, i) => {
      const first = seen.get(x);
      if (first !== undefined) c.section('OCI_PLACEMENT', [field, i], `${what} ${x} is listed twice (first at ${field}.${first})`, `list each ${what} once`);
      else seen.set(x, i);
    });
  };
  spec.availabilityDomains.forEach((ad, i) => {
    if (!ad.includes(`:${regionPart}-AD-`)) {
      c.section('OCI_PLACEMENT', ['availabilityDomains', i], `availability domain ${ad} is not in region ${spec.region}`, `use the full names of ${spec.region}'s domains, e.g. <prefix>:${regionPart}-AD-1 (oci iam availability-domain list)`);
    }
  });
  once(spec.availabilityDomains, 'availabilityDomains', 'availability domain');
  once(spec.faultDomains, 'faultDomains', 'fault domain');
  for (const m of ipv4Problems(spec.ipv4Cidr)) c.section('OCI_IPV4_CIDR', ['ipv4Cidr'], m, 'use a private /16 such as 10.0.0.0/16: every VNIC needs an IPv4 address, so the node subnet\'s IPv4 half bounds the node count');

  // Shapes.
  const shapeAt = (m: OciMachine | OciSpec['workerPools'][number], path: Path): void => {
    const why = shapeProblem(m);
    if (why) c.section('OCI_SHAPE', [...path, why.field], why.message, 'use a flexible VM shape (e.g. VM.Standard.E5.Flex, VM.Standard.A1.Flex) with memoryGiB between ocpus and 64 x ocpus');
  };
  shapeAt(spec.controlPlane, ['controlPlane']);
  shapeAt(spec.nat64, ['nat64']);
  spec.workerPools.forEach((p, i) => shapeAt(p, ['workerPools', i]));
  c.poolNames(spec.workerPools.map((p) => p.name));

  // Capacity: the node subnet's /80s and IPv4 addresses.
  if (ipv4Problems(spec.ipv4Cidr).length === 0) {
    const cap = nodeCapacity(spec.ipv4Cidr, stack.spec.controlPlane.count);
    const workers = spec.workerPools.reduce((n, p) => n + p.size, 0);
    const total = stack.spec.controlPlane.count + workers;
    if (total > cap.nodes) {
      c.section(
        'OCI_CAPACITY',
        ['workerPools'],
        `${total} nodes (${stack.spec.controlPlane.count} control planes, ${workers} workers) exceed what the node subnet holds: ${cap.nodes.toLocaleString('en-US')} (IPv6: ${cap.ipv6Nodes.toLocaleString('en-US')} nodes of one address and one /${POD_PREFIX_LENGTH} in a /64; IPv4: ${cap.ipv4Nodes.toLocaleString('en-US')} addresses in the node half of ${spec.ipv4Cidr})`,
        cap.ipv4Nodes < cap.ipv6Nodes ? 'use a larger ipv4Cidr (a /16 holds 32,765 nodes) or fewer workers' : `use at most ${cap.nodes.toLocaleString('en-US')} nodes per cluster`,
      );
    }
  }

  // Prefixes: IPv6 only.
  const over = 'nodes and the API load balancer are reached over IPv6 only';
  c.prefixList(spec.adminPrefixes, 'adminPrefixes', 'admin prefix', over);
  c.prefixList(spec.nodeEgress, 'nodeEgress', 'egress prefix', over);

  // What flat6:cluster must say for OCI.
  c.podPrefixLength(POD_PREFIX_LENGTH, `flat6 assigns each node's VNIC one /${POD_PREFIX_LENGTH} (an IPv6 prefix on the VNIC), which the VCN routes to it`);
  c.dns(DNS64_STANDIN, `on OCI the nodes' resolver is the DNS64 resolver flat6 creates (OCI has none); write its stand-in ${DNS64_STANDIN}, which the program replaces with its address`);
  c.noVipPair();
  c.controlPlaneRacks();
  c.reservedBlock(`use ${DNS64_STANDIN}, the stand-in for flat6's DNS64 resolver`, [parseAddress(DNS64_STANDIN)]);

  c.finish();
  return { stack, oci: spec, plan: createPlan(stack) };
}
