/**
 * The cloud-init user data of an AWS node: flat6's rendered host files (the
 * same renderers as bare metal, registry order), a few AWS-only files, and the
 * boot script that fills in what only the running instance knows. Pure and
 * deterministic: same plan, same bytes.
 */
import { readFileSync } from 'node:fs';
import { formatAddress } from '../../core/ip.js';
import type { ClusterPlan, NodePlan } from '../../plan/plan.js';
import type { RenderContext } from '../../render/context.js';
import { MODE_PUBLIC, type FileEntry } from '../../render/files.js';
import {
  addCertSans,
  bootRoleOf,
  CLOUD_HOST_FILES,
  cloudConfig,
  isCloudHostFile,
  KUBEADM_CONFIG_PATH,
  nodeFiles,
  renderCloudHostFiles,
  splitEndpoint,
  type BootRole,
  type HostFiles,
} from '../shared/cloud-init.js';
import { SENTINEL_HOSTNAME, sentinelSpec } from '../shared/sentinels.js';

// Shared with OCI (src/cloud/shared/cloud-init.ts); re-exported for AWS callers.
export { addCertSans, bootRoleOf, KUBEADM_CONFIG_PATH, splitEndpoint, type BootRole, type HostFiles };

/** Host files an AWS node takes from flat6's renderers (paths relative to /): the same as every cloud node. */
export const AWS_HOST_FILES = CLOUD_HOST_FILES;
export const isAwsHostFile = isCloudHostFile;
export const renderAwsHostFiles = renderCloudHostFiles;

export const BOOT_SCRIPT_TEMPLATE = 'aws/flat6-aws-boot.py';
export const BOOT_SCRIPT_PATH = '/usr/local/sbin/flat6-aws-boot';
export const BOOT_CONFIG_PATH = '/etc/flat6/aws-boot.json';
/** EC2 rejects user data above 16 KiB (before base64); flat6 sends it gzip-compressed, which cloud-init unpacks. */
export const USER_DATA_LIMIT = 16 * 1024;

/** AWS-only host files: the VPC resolver for the node (and so CoreDNS) and the Amazon Time Sync Service over IPv6. */
export function awsSystemFiles(plan: ClusterPlan): FileEntry[] {
  const dns = plan.dns.map(formatAddress);
  return [
    {
      path: 'etc/systemd/resolved.conf.d/60-flat6.conf',
      mode: MODE_PUBLIC,
      content: `# flat6: upstream DNS of cluster ${plan.name}. The VPC resolver answers with DNS64,\n# so IPv4-only names resolve to 64:ff9b::/96 addresses the NAT gateway translates.\n# kubelet hands this resolver to CoreDNS (/run/systemd/resolve/resolv.conf).\n[Resolve]\nDNS=${dns.join(' ')}\n`,
    },
    {
      path: 'etc/chrony/sources.d/flat6-aws.sources',
      mode: MODE_PUBLIC,
      content: '# flat6: Amazon Time Sync Service, reachable from IPv6-only subnets.\nserver fd00:ec2::123 prefer iburst\n',
    },
  ];
}

export interface BootConfig {
  role: BootRole;
  kubernetesVersion: string;
  /** where kubeadm reaches the API: the boot script waits until the name resolves (AAAA) */
  apiEndpoint: { host: string; port: number };
  /** control-plane nodes hold a pinned address; the boot script checks it */
  expectedAddress: string | null;
  sentinels: ReturnType<typeof sentinelSpec>;
  /** files whose stand-ins the boot script fills in */
  files: string[];
  kubeadmConfig: string;
  imds: string;
}

export interface UserData {
  /** the #cloud-config document */
  text: string;
  /** what EC2 receives: base64 of the gzip-compressed document (cloud-init detects gzip) */
  base64: string;
  /** size of the compressed document, the figure EC2's 16 KiB limit applies to */
  compressedBytes: number;
  bootConfig: BootConfig;
  /** every file written, paths absolute */
  files: FileEntry[];
  skipped: string[];
}

export function bootScript(ctx: RenderContext): string {
  return readFileSync(ctx.templates.resolvePath(BOOT_SCRIPT_TEMPLATE), 'utf8');
}

export interface UserDataOptions {
  /** certSANs the API server certificate gets beyond the rendered ones (the init file only) */
  certSans?: readonly string[];
}

/**
 * Build the cloud-config of one node (a control-plane node, or any worker of a
 * pool: workers differ only in what the boot script fills in).
 */
export function buildUserData(ctx: RenderContext, node: NodePlan, opts: UserDataOptions = {}): UserData {
  if (node.name !== SENTINEL_HOSTNAME) throw new Error(`AWS nodes are rendered with the host name stand-in, not "${node.name}"`);
  const { files: rendered, skipped } = nodeFiles(ctx, node, opts.certSans);
  const role = bootRoleOf(node);
  const bootConfig: BootConfig = {
    role,
    kubernetesVersion: ctx.plan.kubernetesVersion,
    apiEndpoint: splitEndpoint(ctx.plan.controlPlaneEndpoint),
    expectedAddress: node.role === 'control-plane' ? formatAddress(node.address) : null,
    sentinels: sentinelSpec(),
    files: rendered.map((f) => f.path),
    kubeadmConfig: KUBEADM_CONFIG_PATH,
    imds: 'http://[fd00:ec2::254]',
  };
  const files: FileEntry[] = [
    ...rendered,
    ...awsSystemFiles(ctx.plan).map((f) => ({ ...f, path: `/${f.path}` })),
    { path: BOOT_CONFIG_PATH, mode: MODE_PUBLIC, content: JSON.stringify(bootConfig, null, 2) + '\n' },
    { path: BOOT_SCRIPT_PATH, mode: 0o755, content: bootScript(ctx) },
  ];
  const what = role === 'join' ? `worker of pool ${node.rack.name}` : `control-plane node ${node.controlPlaneIndex}`;
  const { text, gzip: gz } = cloudConfig(files, [['python3', BOOT_SCRIPT_PATH, 'boot', '--config', BOOT_CONFIG_PATH]], `${what} of cluster ${ctx.plan.name} (stack ${ctx.plan.stackName}).`);
  if (gz.length > USER_DATA_LIMIT) {
    throw new Error(`user data of the ${role} node is ${gz.length} bytes compressed; EC2 accepts at most ${USER_DATA_LIMIT}. Shorten overlay templates.`);
  }
  return { text, base64: gz.toString('base64'), compressedBytes: gz.length, bootConfig, files, skipped };
}
