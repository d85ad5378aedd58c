/**
 * The cloud-init user data of an AWS node: flat6's rendered host files (the
 * same renderers as bare metal, registry order), a few AWS-only files, and the
 * boot script that fills in what only the running instance knows. Pure and
 * deterministic: same plan, same bytes.
 */
import { readFileSync } from 'node:fs';
import { constants, gzipSync } from 'node:zlib';
import { isMap, isScalar, isSeq, parseAllDocuments, stringify } from 'yaml';
import { formatAddress, parseAddress } from '../core/ip.js';
import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import type { RenderContext } from '../render/context.js';
import { MODE_PRIVATE, MODE_PUBLIC, type FileEntry } from '../render/files.js';
import { renderHost } from '../render/render.js';
import { NODE_PODS_NETPLAN } from '../render/routing.js';
import { SENTINEL_HOSTNAME, sentinelSpec } from './sentinels.js';

/** Host files an AWS node takes from flat6's renderers (paths relative to /). */
export const AWS_HOST_FILES: ReadonlyArray<{ pattern: RegExp; what: string }> = [
  { pattern: /^etc\/sysctl\.d\/[^/]+\.conf$/, what: 'kernel settings' },
  { pattern: /^etc\/modules-load\.d\/[^/]+\.conf$/, what: 'kernel modules' },
  { pattern: /^etc\/flat6\/kubeadm\.yaml$/, what: 'kubeadm configuration' },
  { pattern: /^etc\/cni\/net\.d\/[^/]+$/, what: 'CNI configuration (pod range = the node\'s /80, filled in at boot)' },
  { pattern: new RegExp(`^${NODE_PODS_NETPLAN.replace(/[.]/g, '\\.')}$`), what: 'discard route for the unused rest of the node\'s /80 (on the uplink found at boot)' },
];

/**
 * Everything else is what AWS provides itself: addresses and the default route
 * (DHCPv6 and router advertisements, not the static netplan file), the API
 * endpoint (the load balancer, not a VRRP VIP) and pod routing (the VPC routes
 * each delegated /80 to its node; no routing daemon).
 */
export function isAwsHostFile(path: string): boolean {
  return AWS_HOST_FILES.some((f) => f.pattern.test(path));
}

export const BOOT_SCRIPT_TEMPLATE = 'aws/flat6-aws-boot.py';
export const BOOT_SCRIPT_PATH = '/usr/local/sbin/flat6-aws-boot';
export const BOOT_CONFIG_PATH = '/etc/flat6/aws-boot.json';
export const KUBEADM_CONFIG_PATH = '/etc/flat6/kubeadm.yaml';
/** EC2 rejects user data above 16 KiB (before base64); flat6 sends it gzip-compressed, which cloud-init unpacks. */
export const USER_DATA_LIMIT = 16 * 1024;

export type BootRole = 'init' | 'join-control-plane' | 'join';

export function bootRoleOf(node: NodePlan): BootRole {
  if (node.role !== 'control-plane') return 'join';
  return node.controlPlaneIndex === 0 ? 'init' : 'join-control-plane';
}

export interface HostFiles {
  /** files the node gets, paths relative to / */
  files: FileEntry[];
  /** rendered files AWS does not use (e.g. etc/netplan/60-flat6.yaml) */
  skipped: string[];
}

/** The node's files from the core renderers, as on bare metal, minus what AWS provides. */
export function renderAwsHostFiles(ctx: RenderContext, node: NodePlan): HostFiles {
  const prefix = `hosts/${node.name}/`;
  const files: FileEntry[] = [];
  const skipped: string[] = [];
  for (const f of renderHost(ctx, node)) {
    const rel = f.path.startsWith(prefix) ? f.path.slice(prefix.length) : f.path;
    if (isAwsHostFile(rel)) files.push({ ...f, path: rel });
    else skipped.push(rel);
  }
  return { files, skipped };
}

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

/**
 * Add certSANs to the ClusterConfiguration of a rendered kubeadm file (the
 * init file: joining control planes take the ClusterConfiguration from the
 * cluster). The rendered text stays byte for byte as it was; the new entries
 * are appended to the certSANs list with its indentation, quoted as JSON (a
 * valid YAML scalar), skipping any already listed. A file without a
 * ClusterConfiguration (a join file) is returned unchanged.
 */
export function addCertSans(text: string, sans: readonly string[]): string {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return text;
  const cc = docs.find((d) => isMap(d.contents) && d.get('kind') === 'ClusterConfiguration');
  if (!cc) return text;
  const list = cc.getIn(['apiServer', 'certSANs'], true);
  if (!isSeq(list) || list.items.length === 0 || !list.range) throw new Error('the rendered ClusterConfiguration has no apiServer.certSANs list to extend');
  const have = list.items.map((i) => (isScalar(i) ? String(i.value) : ''));
  const add = [...new Set(sans)].filter((s) => !have.includes(s));
  if (add.length === 0) return text;
  for (const s of add) {
    if (/[\r\n]/.test(s)) throw new Error(`certSAN ${JSON.stringify(s)} holds a line break`);
  }
  // The block sequence ends with the line of its last item: insert after that line.
  const last = list.items[list.items.length - 1]!;
  if (!isScalar(last) || !last.range) throw new Error('unexpected certSANs entry in the rendered ClusterConfiguration');
  const lineStart = text.lastIndexOf('\n', last.range[0]) + 1;
  const prefix = text.slice(lineStart, last.range[0]);
  if (!/^ *- $/.test(prefix)) throw new Error('the rendered certSANs list is not a block sequence');
  const eol = text.indexOf('\n', last.range[1]);
  const at = eol < 0 ? text.length : eol + 1;
  const lines = add.map((s) => `${prefix}${JSON.stringify(s)}\n`).join('');
  const out = text.slice(0, at) + (eol < 0 ? '\n' : '') + lines + text.slice(at);
  // Parse back: the list must now be exactly the old entries then the new ones.
  const again = parseAllDocuments(out);
  const check = Array.isArray(again) ? again.find((d) => isMap(d.contents) && d.get('kind') === 'ClusterConfiguration') : undefined;
  const now = (check?.toJS() as { apiServer?: { certSANs?: unknown } } | undefined)?.apiServer?.certSANs;
  if (!check || check.errors.length > 0 || JSON.stringify(now) !== JSON.stringify([...have, ...add])) {
    throw new Error('adding certSANs to the rendered kubeadm file did not give the expected list');
  }
  return out;
}

/** host and port of a "host:port" or "[v6]:port" endpoint. */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(endpoint);
  if (!m) throw new Error(`API endpoint "${endpoint}" is not host:port`);
  const host = m[1] ?? m[2]!;
  if (m[1] !== undefined) parseAddress(host);
  return { host: m[1] !== undefined ? formatAddress(parseAddress(host)) : host, port: Number(m[3]) };
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
  const host = renderAwsHostFiles(ctx, node);
  const role = bootRoleOf(node);
  const rendered = host.files.map((f) => {
    const path = `/${f.path}`;
    if (path === KUBEADM_CONFIG_PATH && role === 'init' && opts.certSans?.length) return { ...f, path, content: addCertSans(f.content, opts.certSans) };
    return { ...f, path };
  });
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
  if (!bootConfig.files.includes(KUBEADM_CONFIG_PATH)) throw new Error(`the renderers produced no ${KUBEADM_CONFIG_PATH.slice(1)}`);
  const files: FileEntry[] = [
    ...rendered,
    ...awsSystemFiles(ctx.plan).map((f) => ({ ...f, path: `/${f.path}` })),
    { path: BOOT_CONFIG_PATH, mode: MODE_PUBLIC, content: JSON.stringify(bootConfig, null, 2) + '\n' },
    { path: BOOT_SCRIPT_PATH, mode: 0o755, content: bootScript(ctx) },
  ];
  const doc = {
    write_files: files.map((f) => ({
      path: f.path,
      owner: 'root:root',
      permissions: `0${f.mode.toString(8)}`,
      content: f.content,
    })),
    runcmd: [['python3', BOOT_SCRIPT_PATH, 'boot', '--config', BOOT_CONFIG_PATH]],
  };
  const secretNote = files.some((f) => f.mode === MODE_PRIVATE) ? ' Holds the bootstrap token: Pulumi stores it as a secret.' : '';
  const text = [
    '#cloud-config',
    `# flat6: ${role === 'join' ? `worker of pool ${node.rack.name}` : `control-plane node ${node.controlPlaneIndex}`} of cluster ${ctx.plan.name} (stack ${ctx.plan.stackName}).${secretNote}`,
    stringify(doc, { lineWidth: 0, minContentWidth: 0 }),
  ].join('\n');
  // gzip without a file name or time stamp: same document, same bytes.
  const gz = gzipSync(Buffer.from(text, 'utf8'), { level: constants.Z_BEST_COMPRESSION });
  if (gz.length > USER_DATA_LIMIT) {
    throw new Error(`user data of the ${role} node is ${gz.length} bytes compressed; EC2 accepts at most ${USER_DATA_LIMIT}. Shorten overlay templates.`);
  }
  return { text, base64: gz.toString('base64'), compressedBytes: gz.length, bootConfig, files, skipped: host.skipped };
}
