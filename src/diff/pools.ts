/**
 * What each node pool of a cloud stack boots with: the cloud-init user data
 * the Pulumi programs build (src/cloud/aws/cluster.ts, src/cloud/oci/cluster.ts),
 * built here by the same pure functions without Pulumi: control-plane node k
 * ("control-plane/cp<k>") and one worker per pool ("workers-<pool>"), decoded,
 * file by file. `pulumi preview` shows this user data only as [secret].
 *
 * What only the cloud knows is a fixed stand-in on both sides: the VPC's or
 * VCN's /56 (a documentation prefix) and, on AWS, the load balancer's DNS
 * name. A network keeps its /56 for life, so the offsets inside it, which is
 * what the stack decides, compare truly. A control-plane node whose pinned
 * address moves is RENUMBER.
 */
import { UsageError } from '../core/diagnostics.js';
import { formatAddress } from '../core/ip.js';
import type { FileEntry } from '../render/files.js';
import { apiCertSans, awsClusterPlan, awsControlPlaneNode, awsWorkerNode } from '../cloud/aws/plan.js';
import { AWS_KEY, loadAwsStack } from '../cloud/aws/config.js';
import { vpcLayout } from '../cloud/aws/layout.js';
import { buildUserData } from '../cloud/aws/userdata.js';
import { loadOciStack, OCI_KEY } from '../cloud/oci/config.js';
import { vcnLayout } from '../cloud/oci/layout.js';
import { ociClusterPlan, ociControlPlaneNode, ociWorkerNode } from '../cloud/oci/plan.js';
import { buildOciUserData } from '../cloud/oci/userdata.js';
import { Flat6Error } from '../core/diagnostics.js';
import type { LoadedStack } from '../spec/load.js';
import type { Side } from './stack.js';
import { block } from './stack.js';
import { cloudKeyOf } from './cluster.js';
import { compareFiles, DIFF_SECRETS } from './files.js';
import type { TemplateSides } from './templates.js';
import type { StackDiff } from './types.js';
import type { TemplateSet } from '../render/templates.js';

/** Stand-ins for what the cloud assigns: the same on both sides. */
export const STAND_IN_NETWORK = '2001:db8:f600::/56';
export const STAND_IN_API_HOST = 'flat6-api-load-balancer.elb.invalid';
/** The pseudo-file holding the cloud-config's comment lines and run command. */
export const CLOUD_CONFIG = 'cloud-config (comment and runcmd)';


interface Pool {
  name: string;
  files: FileEntry[];
  /** control-plane nodes: the pinned address and where it is placed */
  address?: string;
  place?: string;
}

/** The files a cloud-config writes, and the rest of it (its comment lines and what it runs). */
function cloudFiles(u: { text: string; files: FileEntry[] }): FileEntry[] {
  const lines = u.text.split('\n');
  const rest = [...lines.filter((x) => x.startsWith('#')), ...lines.slice(Math.max(0, lines.findIndex((x) => x.startsWith('runcmd:'))))];
  return [...u.files.map((f) => ({ ...f, path: f.path.replace(/^\//, '') })), { path: CLOUD_CONFIG, mode: 0o600, content: rest.join('\n') }];
}

function awsPools(stack: LoadedStack, templates: TemplateSet): Pool[] {
  const s = loadAwsStack(stack);
  const l = vpcLayout(STAND_IN_NETWORK, { region: s.aws.region, zones: s.aws.availabilityZones, ipv4Cidr: s.aws.ipv4Cidr, controlPlaneCount: s.plan.controlPlanes.length });
  const ctx = { plan: awsClusterPlan(s.plan, l, STAND_IN_API_HOST), templates, secrets: DIFF_SECRETS };
  const opts = { certSans: apiCertSans(l, STAND_IN_API_HOST) };
  const out: Pool[] = s.plan.controlPlanes.map((_, k) => ({
    name: `control-plane/cp${k}`,
    files: cloudFiles(buildUserData(ctx, awsControlPlaneNode(s.plan, l, k), opts)),
    address: formatAddress(l.controlPlanes[k].address),
    place: `zone ${l.controlPlanes[k].zone}`,
  }));
  for (const p of s.aws.workerPools) out.push({ name: `workers-${p.name}`, files: cloudFiles(buildUserData(ctx, awsWorkerNode(l, p.name), opts)) });
  return out;
}

function ociPools(stack: LoadedStack, templates: TemplateSet): Pool[] {
  const s = loadOciStack(stack);
  const l = vcnLayout(STAND_IN_NETWORK, { availabilityDomains: s.oci.availabilityDomains, faultDomains: s.oci.faultDomains, ipv4Cidr: s.oci.ipv4Cidr, controlPlaneCount: s.plan.controlPlanes.length });
  const ctx = { plan: ociClusterPlan(s.plan, l), templates, secrets: DIFF_SECRETS };
  const opts = { region: s.oci.region, sshAuthorizedKeys: s.oci.sshAuthorizedKeys.join('\n') };
  const out: Pool[] = s.plan.controlPlanes.map((_, k) => ({
    name: `control-plane/cp${k}`,
    files: cloudFiles(buildOciUserData(ctx, l, ociControlPlaneNode(s.plan, l, k), opts)),
    address: formatAddress(l.controlPlanes[k].address),
    place: `availability domain ${l.controlPlanes[k].availabilityDomain}`,
  }));
  for (const p of s.oci.workerPools) out.push({ name: `workers-${p.name}`, files: cloudFiles(buildOciUserData(ctx, l, ociWorkerNode(l, p.name), opts)) });
  return out;
}

function poolsOf(side: Extract<Side, { kind: 'ok' }>, templates: TemplateSet): Pool[] {
  const key = cloudKeyOf(side.stack);
  if (key === AWS_KEY) return awsPools(side.stack, templates);
  if (key === OCI_KEY) return ociPools(side.stack, templates);
  return [];
}

/** Add the node pools' boot files to the diff of an AWS stack (either side AWS). */
export function diffPools(d: StackDiff, o: { base: Extract<Side, { kind: 'ok' }>; head: Extract<Side, { kind: 'ok' }>; templates: TemplateSides; allowRenumber: boolean; context: number }): void {
  const key = cloudKeyOf(o.head.stack) ?? cloudKeyOf(o.base.stack);
  if (key === undefined) return;
  let head: Pool[];
  try {
    head = poolsOf(o.head, o.templates.head);
  } catch (e) {
    d.status = 'error';
    if (e instanceof Flat6Error) d.error = { exitCode: e.exitCode, message: e.message, diagnostics: e.diagnostics };
    else d.error = { exitCode: e instanceof UsageError ? 2 : 1, message: (e as Error).message, diagnostics: [] };
    return;
  }
  let base: Pool[] = [];
  try {
    base = poolsOf(o.base, o.templates.base);
  } catch (e) {
    d.notes.push(`the base's node pools could not be built with today's code (${(e as Error).message.split('\n')[0]}): RENUMBER of control-plane addresses could not be checked (UNVERIFIED)`);
    block(d, 'UNVERIFIED', o.allowRenumber);
  }
  const b = new Map(base.map((p) => [p.name, p]));
  const h = new Map(head.map((p) => [p.name, p]));
  d.pools = [];
  d.counts.hostsBase = base.length;
  d.counts.hostsHead = head.length;
  d.poolsAdded = head.filter((p) => !b.has(p.name)).map((p) => p.name);
  d.poolsRemoved = base.filter((p) => !h.has(p.name)).map((p) => p.name);
  for (const p of head) {
    const was = b.get(p.name);
    if (!was) continue;
    if (was.address !== undefined && p.address !== undefined && was.address !== p.address) {
      d.counts.renumbered++;
      d.renumber.push({
        node: p.name,
        changes: [{ field: 'address', old: was.address, new: p.address }],
        causes: [
          key === AWS_KEY
            ? {
                path: 'availabilityZones',
                location: o.head.stack.locateIn(AWS_KEY, ['availabilityZones']),
                why: `control-plane node ${p.name} moves from ${was.place ?? '?'} to ${p.place ?? '?'} (node k takes zone k mod the number of zones, in the order of availabilityZones): its pinned address changes and the instance is replaced`,
              }
            : {
                path: '',
                location: o.head.stack.locateIn(key, [], true),
                why: `the pinned address of control-plane node ${p.name} changes (${was.place ?? '?'} -> ${p.place ?? '?'}): the instance is replaced`,
              },
        ],
      });
      block(d, 'RENUMBER', o.allowRenumber);
    }
    const files = compareFiles(was.files, p.files, o.context);
    if (files.length) d.pools.push({ name: p.name, files });
  }
  if (d.pools.length || d.poolsAdded.length || d.poolsRemoved.length || d.renumber.length) d.status = 'changed';
}
