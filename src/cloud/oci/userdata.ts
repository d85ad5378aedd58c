/**
 * The cloud-init user data of an OCI node: flat6's rendered host files (the
 * same renderers as bare metal and AWS, src/cloud/shared/cloud-init.ts), the
 * node's resolver (the DNS64 resolver flat6 creates), and the OCI boot script
 * with its config. The boot script (templates/oci/flat6-oci-boot.py) reuses
 * the AWS boot script's helpers (retries, the stand-in rewriter, packages,
 * kubeadm), shipped beside it as a library, and adds what is OCI's own: the
 * instance metadata service v2 and the worker's /80.
 *
 * OCI reads cloud-init user data from the instance metadata key "user_data"
 * (base64); all metadata together may hold at most 32,000 bytes, so the
 * document goes gzip-compressed (cloud-init unpacks it). Pure and
 * deterministic: same plan, same bytes.
 */
import { readFileSync } from 'node:fs';
import { formatAddress, formatPrefix } from '../../core/ip.js';
import type { ClusterPlan, NodePlan } from '../../plan/plan.js';
import type { RenderContext } from '../../render/context.js';
import { MODE_PUBLIC, type FileEntry } from '../../render/files.js';
import { bootRoleOf, cloudConfig, KUBEADM_CONFIG_PATH, nodeFiles, splitEndpoint, type BootRole } from '../shared/cloud-init.js';
import { SENTINEL_HOSTNAME, SENTINEL_POD_PREFIX, sentinelSpec } from '../shared/sentinels.js';
import { POD_PREFIX_LENGTH, type VcnLayout } from './layout.js';

export const BOOT_SCRIPT_TEMPLATE = 'oci/flat6-oci-boot.py';
/** The AWS boot script, shipped as the OCI script's library of shared steps. */
export const BOOT_LIBRARY_TEMPLATE = 'aws/flat6-aws-boot.py';
export const BOOT_SCRIPT_PATH = '/usr/local/sbin/flat6-oci-boot';
export const BOOT_LIBRARY_PATH = '/usr/local/lib/flat6/flat6_boot.py';
export const BOOT_CONFIG_PATH = '/etc/flat6/oci-boot.json';
/** OCI: "the combined size of the metadata ... can be a maximum of 32,000 bytes" (user_data base64 + ssh_authorized_keys). */
export const METADATA_LIMIT = 32000;
/** The instance metadata service v2 (link-local IPv4: OCI keeps an IPv4 address on every VNIC). */
export const IMDS = 'http://169.254.169.254';

export interface OciBootConfig {
  role: BootRole;
  kubernetesVersion: string;
  region: string;
  apiEndpoint: { host: string; port: number };
  /** control-plane nodes hold a pinned address and a pinned /80; the boot script checks both */
  expectedAddress: string | null;
  podPrefix: string | null;
  /** workers: the /80 the boot script assigns to its own VNIC */
  podPrefixLength: number;
  /** DNS64 answers ipv4only.arpa inside it once NAT64 works (RFC 7050) */
  nat64Prefix: string;
  sentinels: ReturnType<typeof sentinelSpec>;
  files: string[];
  kubeadmConfig: string;
  imds: string;
}

export interface OciUserData {
  text: string;
  /** what the metadata key user_data holds: base64 of the gzip-compressed document */
  base64: string;
  /** bytes of metadata this node uses: user_data plus ssh_authorized_keys */
  metadataBytes: number;
  bootConfig: OciBootConfig;
  files: FileEntry[];
  skipped: string[];
}

export class OciUserDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OciUserDataError';
  }
}

/** OCI-only host files: the DNS64 resolver for the node (and through kubelet, CoreDNS). */
export function ociSystemFiles(plan: ClusterPlan): FileEntry[] {
  const dns = plan.dns.map(formatAddress);
  return [
    {
      path: '/etc/systemd/resolved.conf.d/60-flat6.conf',
      mode: MODE_PUBLIC,
      content: `# flat6: upstream DNS of cluster ${plan.name}: the DNS64 resolver on the NAT64 instance,\n# so IPv4-only names resolve to NAT64 addresses. kubelet hands this resolver to CoreDNS.\n[Resolve]\nDNS=${dns.join(' ')}\n`,
    },
  ];
}

export interface OciUserDataOptions {
  region: string;
  /** the ssh_authorized_keys metadata value, counted against the limit */
  sshAuthorizedKeys?: string;
}

/** The cloud-config of one node (a control plane, or any worker of a pool). */
export function buildOciUserData(ctx: RenderContext, layout: VcnLayout, node: NodePlan, opts: OciUserDataOptions): OciUserData {
  if (node.name !== SENTINEL_HOSTNAME) throw new OciUserDataError(`OCI nodes are rendered with the host name stand-in, not "${node.name}"`);
  const { files: rendered, skipped } = nodeFiles(ctx, node);
  const role = bootRoleOf(node);
  const pinnedPrefix = node.podPrefix.base !== SENTINEL_POD_PREFIX.base;
  const bootConfig: OciBootConfig = {
    role,
    kubernetesVersion: ctx.plan.kubernetesVersion,
    region: opts.region,
    apiEndpoint: splitEndpoint(ctx.plan.controlPlaneEndpoint),
    expectedAddress: node.role === 'control-plane' ? formatAddress(node.address) : null,
    podPrefix: pinnedPrefix ? formatPrefix(node.podPrefix) : null,
    podPrefixLength: POD_PREFIX_LENGTH,
    nat64Prefix: formatPrefix(layout.nat64Prefix),
    sentinels: sentinelSpec(),
    files: rendered.map((f) => f.path),
    kubeadmConfig: KUBEADM_CONFIG_PATH,
    imds: IMDS,
  };
  const read = (t: string): string => readFileSync(ctx.templates.resolvePath(t), 'utf8');
  const files: FileEntry[] = [
    ...rendered,
    ...ociSystemFiles(ctx.plan),
    { path: BOOT_CONFIG_PATH, mode: MODE_PUBLIC, content: JSON.stringify(bootConfig, null, 2) + '\n' },
    { path: BOOT_LIBRARY_PATH, mode: 0o644, content: read(BOOT_LIBRARY_TEMPLATE) },
    { path: BOOT_SCRIPT_PATH, mode: 0o755, content: read(BOOT_SCRIPT_TEMPLATE) },
  ];
  const what = role === 'join' ? `worker of pool ${node.rack.name}` : `control-plane node ${node.controlPlaneIndex}`;
  const { text, gzip } = cloudConfig(files, [['python3', BOOT_SCRIPT_PATH, 'boot', '--config', BOOT_CONFIG_PATH]], `${what} of cluster ${ctx.plan.name} (stack ${ctx.plan.stackName}).`);
  const base64 = gzip.toString('base64');
  const metadataBytes = Buffer.byteLength(base64) + Buffer.byteLength(opts.sshAuthorizedKeys ?? '');
  if (metadataBytes > METADATA_LIMIT) {
    throw new OciUserDataError(
      `metadata of the ${role} node is ${metadataBytes} bytes (user_data ${Buffer.byteLength(base64)} base64 bytes + ssh_authorized_keys); OCI accepts at most ${METADATA_LIMIT}. Shorten overlay templates or list fewer SSH keys.`,
    );
  }
  return { text, base64, metadataBytes, bootConfig, files, skipped };
}
