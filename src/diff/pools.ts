/**
 * What each node pool of an AWS stack boots with: the cloud-init user data the
 * Pulumi program builds (src/cloud/cluster.ts), built here by the same pure
 * functions without Pulumi: control-plane node k ("control-plane/cp<k>") and
 * one worker per pool ("workers-<pool>"), decoded, file by file. `pulumi
 * preview` shows this user data only as [secret].
 *
 * What only AWS knows is a fixed stand-in on both sides: the VPC's /56 (a
 * documentation prefix) and the load balancer's DNS name. A VPC keeps its
 * /56 for life, so the offsets inside it, which is what the stack decides,
 * compare truly. A control-plane node whose pinned address moves (its zone
 * or index changes) is RENUMBER.
 */
import { UsageError } from '../core/diagnostics.js';
import { formatAddress } from '../core/ip.js';
import type { FileEntry } from '../render/files.js';
import { apiCertSans, awsClusterPlan, awsControlPlaneNode, awsWorkerNode } from '../cloud/aws/plan.js';
import { loadAwsStack, type AwsStack } from '../cloud/aws/config.js';
import { vpcLayout, type VpcLayout } from '../cloud/aws/layout.js';
import { buildUserData } from '../cloud/aws/userdata.js';
import { Flat6Error } from '../core/diagnostics.js';
import type { Side } from './stack.js';
import { block } from './stack.js';
import { AWS_KEY } from './cluster.js';
import { compareFiles, DIFF_SECRETS } from './files.js';
import type { TemplateSides } from './templates.js';
import type { StackDiff } from './types.js';
import type { TemplateSet } from '../render/templates.js';

/** Stand-ins for what AWS assigns: the same on both sides. */
export const STAND_IN_VPC = '2001:db8:f600::/56';
export const STAND_IN_API_HOST = 'flat6-api-load-balancer.elb.invalid';
/** The pseudo-file holding the cloud-config's comment lines and run command. */
export const CLOUD_CONFIG = 'cloud-config (comment and runcmd)';

interface Pool {
  name: string;
  files: FileEntry[];
  /** control-plane nodes: the pinned address and its zone */
  address?: string;
  zone?: string;
}

function layoutOf(s: AwsStack): VpcLayout {
  return vpcLayout(STAND_IN_VPC, { region: s.aws.region, zones: s.aws.availabilityZones, ipv4Cidr: s.aws.ipv4Cidr, controlPlaneCount: s.plan.controlPlanes.length });
}

/** Every pool's boot files: the cloud-config's write_files, its run command and its size. */
function poolsOf(s: AwsStack, templates: TemplateSet): Pool[] {
  const l = layoutOf(s);
  const ctx = { plan: awsClusterPlan(s.plan, l, STAND_IN_API_HOST), templates, secrets: DIFF_SECRETS };
  const opts = { certSans: apiCertSans(l, STAND_IN_API_HOST) };
  const out: Pool[] = [];
  // The files it writes, and the rest of the cloud-config (its comment lines and what it runs).
  const files = (u: ReturnType<typeof buildUserData>): FileEntry[] => {
    const lines = u.text.split('\n');
    const rest = [...lines.filter((x) => x.startsWith('#')), ...lines.slice(Math.max(0, lines.findIndex((x) => x.startsWith('runcmd:'))))];
    return [...u.files.map((f) => ({ ...f, path: f.path.replace(/^\//, '') })), { path: CLOUD_CONFIG, mode: 0o600, content: rest.join('\n') }];
  };
  s.plan.controlPlanes.forEach((_, k) => {
    const u = buildUserData(ctx, awsControlPlaneNode(s.plan, l, k), opts);
    out.push({ name: `control-plane/cp${k}`, files: files(u), address: formatAddress(l.controlPlanes[k].address), zone: l.controlPlanes[k].zone });
  });
  for (const p of s.aws.workerPools) out.push({ name: `workers-${p.name}`, files: files(buildUserData(ctx, awsWorkerNode(l, p.name), opts)) });
  return out;
}

function loadAws(side: Extract<Side, { kind: 'ok' }>): AwsStack | undefined {
  if (side.stack.config[AWS_KEY] === undefined) return undefined;
  return loadAwsStack(side.stack);
}

/** Add the node pools' boot files to the diff of an AWS stack (either side AWS). */
export function diffPools(d: StackDiff, o: { base: Extract<Side, { kind: 'ok' }>; head: Extract<Side, { kind: 'ok' }>; templates: TemplateSides; allowRenumber: boolean; context: number }): void {
  if (o.base.stack.config[AWS_KEY] === undefined && o.head.stack.config[AWS_KEY] === undefined) return;
  let head: Pool[];
  try {
    const h = loadAws(o.head);
    head = h ? poolsOf(h, o.templates.head) : [];
  } catch (e) {
    d.status = 'error';
    if (e instanceof Flat6Error) d.error = { exitCode: e.exitCode, message: e.message, diagnostics: e.diagnostics };
    else d.error = { exitCode: e instanceof UsageError ? 2 : 1, message: (e as Error).message, diagnostics: [] };
    return;
  }
  let base: Pool[] = [];
  try {
    const b = loadAws(o.base);
    base = b ? poolsOf(b, o.templates.base) : [];
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
          {
            path: 'availabilityZones',
            location: o.head.stack.locateIn(AWS_KEY, ['availabilityZones']),
            why: `control-plane node ${p.name} moves from zone ${was.zone ?? '?'} to ${p.zone ?? '?'} (node k takes zone k mod the number of zones, in the order of availabilityZones): its pinned address changes and the instance is replaced`,
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
