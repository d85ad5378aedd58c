/**
 * The AWS section of a stack file (`config: flat6:aws`) and the checks an AWS
 * stack needs on top of the core ones. Every problem is collected and reported
 * with its place in the stack file, like the core checks. Pure: no Pulumi.
 */
import { Flat6Error, type Diagnostic, type SourceLocation } from '../core/diagnostics.js';
import { formatAddress, formatPrefix, isIPv4Literal, overlaps, parseAddress, parsePrefix, type IpError } from '../core/ip.js';
import { checkStack } from '../plan/checks.js';
import { createPlan, type ClusterPlan } from '../plan/plan.js';
import { problemCode, type LoadedStack } from '../spec/load.js';
import { checkSection, type Path } from '../spec/section.js';
import { AWS_SECTION, toAwsSpec, type AwsSpec, type NatGatewayMode, type WorkerPoolSpec } from './aws-section.js';
import { checkInstanceType, NITRO_FIX } from './instance-types.js';
import { layoutProblems, POD_PREFIX_LENGTH, zonePosition } from './layout.js';
import { SENTINEL_BLOCK } from './sentinels.js';

export const AWS_KEY = AWS_SECTION.key;
/** The VPC resolver: the only resolver in an IPv6-only subnet that does DNS64. */
export const VPC_RESOLVER = 'fd00:ec2::253';

export type { AwsSpec, NatGatewayMode, WorkerPoolSpec };

function dotted(path: Path): string {
  return path.map(String).join('.');
}

export interface AwsStack {
  stack: LoadedStack;
  aws: AwsSpec;
  plan: ClusterPlan;
}

/**
 * Load flat6:aws, run the core checks and the AWS checks, and plan. Throws one
 * Flat6Error holding every problem (core and AWS) with its place in the file.
 */
export function loadAwsStack(stack: LoadedStack): AwsStack {
  const locate = (path: Path): SourceLocation | undefined => stack.locateIn(AWS_KEY, path, true);
  const ds: Diagnostic[] = [];
  const aws = (code: string, path: Path, message: string, fix: string): void => {
    ds.push({ code, severity: 'error', message: `${AWS_KEY}${path.length ? '.' + dotted(path) : ''}: ${message}`, location: locate(path), fix });
  };
  const cluster = (code: string, path: string, message: string, fix: string): void => {
    ds.push({ code, severity: 'error', message, path, location: stack.locate(path), fix });
  };

  // Core checks first, collected rather than thrown, so one run reports everything.
  const core = checkStack(stack).diagnostics;
  ds.push(...core.filter((d) => d.severity === 'error'));

  const raw = stack.config[AWS_KEY];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    ds.push({
      code: 'NO_CLUSTER',
      severity: 'error',
      message: `no "${AWS_KEY}" mapping under "config:" in ${stack.file}; an AWS stack says where it runs`,
      location: { file: stack.file, line: 1, col: 1 },
      fix: `add, next to flat6:cluster:\n  ${AWS_KEY}:\n    region: us-east-2\n    availabilityZones: [us-east-2a, us-east-2b, us-east-2c]\n    controlPlane: { instanceType: t3.medium }\n    workerPools:\n      - { name: general, instanceType: t3.medium, size: 3 }\n(see docs/aws.md)`,
    });
    throw new Flat6Error(ds, 2);
  }
  const checked = checkSection(AWS_SECTION, raw);
  if (!checked.ok) {
    for (const p of checked.problems) {
      // A missing field is reported at the mapping that lacks it.
      const at = p.kind === 'required' ? p.path.slice(0, -1) : p.path;
      ds.push({ code: problemCode(p), severity: 'error', message: `${AWS_KEY}.${dotted(p.path)}: ${p.message}`, location: locate(at), fix: p.fix ?? 'see docs/aws.md for every field of flat6:aws' });
    }
    throw new Flat6Error(ds, 2);
  }
  const spec = toAwsSpec(checked.value);

  // Region and zones.
  const providerRegion = stack.config['aws:region'];
  if (typeof providerRegion === 'string' && providerRegion !== spec.region) {
    aws('AWS_REGION', ['region'], `region ${spec.region} differs from aws:region ${providerRegion} in the same stack`, `use one region: set aws:region to ${spec.region} or remove it (flat6 configures the AWS provider from flat6:aws.region)`);
  }
  const seenZones = new Map<number, number>();
  spec.availabilityZones.forEach((z, i) => {
    try {
      const pos = zonePosition(z, spec.region);
      const first = seenZones.get(pos);
      if (first !== undefined) aws('AWS_ZONE', ['availabilityZones', i], `zone ${z} is listed twice (first at availabilityZones.${first})`, 'list each zone once');
      else seenZones.set(pos, i);
    } catch (e) {
      aws('AWS_ZONE', ['availabilityZones', i], (e as Error).message, `use zones of ${spec.region}, e.g. ${spec.region}a`);
    }
  });
  const ipv4Problems = layoutProblems({ region: spec.region, zones: spec.availabilityZones.filter((z) => z.startsWith(spec.region)), ipv4Cidr: spec.ipv4Cidr, controlPlaneCount: 0 }).filter(
    (m) => !m.startsWith('availability zone'),
  );
  for (const m of ipv4Problems) aws('AWS_IPV4_CIDR', ['ipv4Cidr'], m, 'use a private /24 such as 10.0.0.0/24: AWS requires an IPv4 CIDR, and only the edge subnets use it');

  // Nitro instance types.
  const checkType = (t: string, path: Path): void => {
    const v = checkInstanceType(t);
    if (!v.ok) aws('AWS_INSTANCE_TYPE', path, v.reason!, NITRO_FIX);
  };
  checkType(spec.controlPlane.instanceType, ['controlPlane', 'instanceType']);
  const poolNames = new Map<string, number>();
  spec.workerPools.forEach((p, i) => {
    checkType(p.instanceType, ['workerPools', i, 'instanceType']);
    const first = poolNames.get(p.name);
    if (first !== undefined) aws('AWS_POOL', ['workerPools', i, 'name'], `worker pool name "${p.name}" is used twice (first at workerPools.${first})`, 'give each pool its own name');
    else poolNames.set(p.name, i);
    if (!(p.minSize <= p.desiredSize && p.desiredSize <= p.maxSize)) {
      aws('AWS_POOL', ['workerPools', i, 'size'], `pool ${p.name}: minSize ${p.minSize} <= size ${p.desiredSize} <= maxSize ${p.maxSize} does not hold`, 'set minSize <= size <= maxSize');
    }
  });

  // Prefixes: IPv6 only.
  const prefixes = (list: string[], field: string, what: string): void => {
    const seen = new Map<string, number>();
    list.forEach((text, i) => {
      if (isIPv4Literal(text)) {
        aws('IPV4_LITERAL', [field, i], `${what} "${text}" is IPv4; nodes and the API load balancer are reached over IPv6 only`, 'use an IPv6 prefix, e.g. 2001:db8:1234::/48');
        return;
      }
      try {
        const key = formatPrefix(parsePrefix(text));
        const first = seen.get(key);
        if (first !== undefined) aws('AWS_DUPLICATE', [field, i], `${what} ${key} is listed twice (first at ${field}.${first})`, 'list each prefix once');
        else seen.set(key, i);
      } catch (e) {
        aws('ADDRESS_SYNTAX', [field, i], `${what}: ${(e as IpError).message}`, 'write an IPv6 prefix as address/length, e.g. 2001:db8:1234::/48');
      }
    });
  };
  prefixes(spec.adminPrefixes, 'adminPrefixes', 'admin prefix');
  prefixes(spec.nodeEgress, 'nodeEgress', 'egress prefix');

  // What flat6:cluster must say for AWS.
  const net = stack.spec.network;
  if (net.podPrefixLength !== POD_PREFIX_LENGTH) {
    cluster('AWS_POD_PREFIX', 'network.podPrefixLength', `per-node pod prefix /${net.podPrefixLength}: AWS delegates /${POD_PREFIX_LENGTH} prefixes to a node's network interface`, `set network.podPrefixLength: ${POD_PREFIX_LENGTH}`);
  }
  const dnsOk = net.dns.length === 1 && (() => {
    try {
      return parseAddress(net.dns[0]!) === parseAddress(VPC_RESOLVER);
    } catch {
      return false;
    }
  })();
  if (!dnsOk) {
    cluster(
      'AWS_DNS',
      'network.dns',
      `DNS servers [${net.dns.join(', ')}]: in an IPv6-only subnet only the VPC resolver ${VPC_RESOLVER} answers with DNS64, which IPv4-only registries need`,
      `set network.dns: ["${VPC_RESOLVER}"]`,
    );
  }
  const loadBalancer = (stack.spec.controlPlane as { loadBalancer?: string }).loadBalancer;
  if (loadBalancer !== undefined && loadBalancer !== 'none') {
    cluster(
      'AWS_LOAD_BALANCER',
      'controlPlane.loadBalancer',
      `controlPlane.loadBalancer is ${loadBalancer}, but on AWS the API endpoint is the Network Load Balancer flat6 creates (VRRP does not work in a VPC)`,
      'set controlPlane.loadBalancer: none (kube-apiserver then binds controlPlane.port, the load balancer\'s target port)',
    );
  }
  const racks = stack.spec.racks;
  const listedNodes = racks.kind === 'generated' ? racks.count * racks.nodes : racks.items.reduce((n, r) => n + (typeof r.nodes === 'number' ? r.nodes : r.nodes.length), 0);
  if (listedNodes !== stack.spec.controlPlane.count) {
    cluster(
      'AWS_NODES',
      'racks',
      `racks hold ${listedNodes} node(s) but controlPlane.count is ${stack.spec.controlPlane.count}: on AWS, racks list only the control-plane nodes`,
      `list exactly the ${stack.spec.controlPlane.count} control-plane node(s) (e.g. racks: [{ name: control-plane, nodes: ${stack.spec.controlPlane.count} }]); workers come from ${AWS_KEY}.workerPools`,
    );
  }
  try {
    const services = parsePrefix(net.services);
    if (overlaps(services, SENTINEL_BLOCK)) {
      cluster('AWS_RESERVED', 'network.services', `service range ${formatPrefix(services)} overlaps ${formatPrefix(SENTINEL_BLOCK)}, which flat6 reserves for values nodes fill in at boot`, 'use a unique local /112, e.g. fd3c:9a52:7e10::/112');
    }
  } catch {
    // the core checks already reported it
  }
  for (const d of [...net.dns]) {
    try {
      const a = parseAddress(d);
      if (a >= SENTINEL_BLOCK.base && a < SENTINEL_BLOCK.base + (1n << 64n)) {
        cluster('AWS_RESERVED', 'network.dns', `DNS server ${formatAddress(a)} lies in ${formatPrefix(SENTINEL_BLOCK)}, reserved by flat6`, `use ${VPC_RESOLVER}`);
      }
    } catch {
      // reported by the core checks
    }
  }

  if (ds.some((d) => d.severity === 'error')) throw new Flat6Error(ds);
  return { stack, aws: spec, plan: createPlan(stack) };
}
