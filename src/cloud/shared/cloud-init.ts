/**
 * What both clouds' user data is made of: the node's files from flat6's own
 * host renderers (as on bare metal, minus what the cloud provides), certSANs
 * added to the rendered init file, and one #cloud-config document
 * (write_files + runcmd), gzip-compressed without a name or time stamp so the
 * same plan gives the same bytes. The cloud folders add their own files, boot
 * script and size limit. Pure: no Pulumi.
 */
import { constants, gzipSync } from 'node:zlib';
import { isMap, isScalar, isSeq, parseAllDocuments, stringify } from 'yaml';
import { formatAddress, parseAddress } from '../../core/ip.js';
import type { NodePlan } from '../../plan/plan.js';
import type { RenderContext } from '../../render/context.js';
import { MODE_PRIVATE, type FileEntry } from '../../render/files.js';
import { renderHost } from '../../render/render.js';
import { NODE_PODS_NETPLAN } from '../../render/routing.js';

/** Rendered host files every cloud node takes (paths relative to /). */
export const CLOUD_HOST_FILES: ReadonlyArray<{ pattern: RegExp; what: string }> = [
  { pattern: /^etc\/sysctl\.d\/[^/]+\.conf$/, what: 'kernel settings' },
  { pattern: /^etc\/modules-load\.d\/[^/]+\.conf$/, what: 'kernel modules' },
  { pattern: /^etc\/flat6\/kubeadm\.yaml$/, what: 'kubeadm configuration' },
  { pattern: /^etc\/cni\/net\.d\/[^/]+$/, what: "CNI configuration (pod range = the node's pod prefix, filled in at boot)" },
  { pattern: new RegExp(`^${NODE_PODS_NETPLAN.replace(/[.]/g, '\\.')}$`), what: "discard route for the unused rest of the node's pod prefix (on the uplink found at boot)" },
];

/**
 * Everything else is what a cloud provides itself: addresses and the default
 * route (DHCPv6 and router advertisements, not the static netplan file), the
 * API endpoint (a load balancer, not a VRRP VIP) and pod routing (the VPC/VCN
 * routes each node's prefix to its network interface; no routing daemon).
 */
export function isCloudHostFile(path: string): boolean {
  return CLOUD_HOST_FILES.some((f) => f.pattern.test(path));
}

export const KUBEADM_CONFIG_PATH = '/etc/flat6/kubeadm.yaml';

export type BootRole = 'init' | 'join-control-plane' | 'join';

export function bootRoleOf(node: NodePlan): BootRole {
  if (node.role !== 'control-plane') return 'join';
  return node.controlPlaneIndex === 0 ? 'init' : 'join-control-plane';
}

export interface HostFiles {
  /** files the node gets, paths relative to / */
  files: FileEntry[];
  /** rendered files the cloud does not use (e.g. etc/netplan/60-flat6.yaml) */
  skipped: string[];
}

/** The node's files from the core renderers, as on bare metal, minus what the cloud provides. */
export function renderCloudHostFiles(ctx: RenderContext, node: NodePlan): HostFiles {
  const prefix = `hosts/${node.name}/`;
  const files: FileEntry[] = [];
  const skipped: string[] = [];
  for (const f of renderHost(ctx, node)) {
    const rel = f.path.startsWith(prefix) ? f.path.slice(prefix.length) : f.path;
    if (isCloudHostFile(rel)) files.push({ ...f, path: rel });
    else skipped.push(rel);
  }
  return { files, skipped };
}

/**
 * The rendered files with absolute paths; the init node's kubeadm file gets
 * the extra certSANs. Throws when the renderers produced no kubeadm file.
 */
export function nodeFiles(ctx: RenderContext, node: NodePlan, certSans: readonly string[] = []): HostFiles {
  const host = renderCloudHostFiles(ctx, node);
  const role = bootRoleOf(node);
  const files = host.files.map((f) => {
    const path = `/${f.path}`;
    if (path === KUBEADM_CONFIG_PATH && role === 'init' && certSans.length) return { ...f, path, content: addCertSans(f.content, certSans) };
    return { ...f, path };
  });
  if (!files.some((f) => f.path === KUBEADM_CONFIG_PATH)) throw new Error(`the renderers produced no ${KUBEADM_CONFIG_PATH.slice(1)}`);
  return { files, skipped: host.skipped };
}

export interface CloudConfig {
  /** the #cloud-config document */
  text: string;
  /** the document gzip-compressed (cloud-init detects gzip) */
  gzip: Buffer;
}

/** One #cloud-config document: every file (absolute paths), then the commands. Deterministic. */
export function cloudConfig(files: readonly FileEntry[], runcmd: ReadonlyArray<readonly string[]>, comment: string): CloudConfig {
  const doc = {
    write_files: files.map((f) => ({ path: f.path, owner: 'root:root', permissions: `0${f.mode.toString(8)}`, content: f.content })),
    runcmd: runcmd.map((c) => [...c]),
  };
  if (/[\r\n]/.test(comment)) throw new Error('a cloud-config comment must be one line');
  const secretNote = files.some((f) => f.mode === MODE_PRIVATE) ? ' Holds the bootstrap token: Pulumi stores it as a secret.' : '';
  const text = ['#cloud-config', `# flat6: ${comment}${secretNote}`, stringify(doc, { lineWidth: 0, minContentWidth: 0 })].join('\n');
  // gzip without a file name or time stamp: same document, same bytes.
  return { text, gzip: gzipSync(Buffer.from(text, 'utf8'), { level: constants.Z_BEST_COMPRESSION }) };
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
  const host = m[1] ?? m[2];
  if (m[1] !== undefined) parseAddress(host);
  return { host: m[1] !== undefined ? formatAddress(parseAddress(host)) : host, port: Number(m[3]) };
}

