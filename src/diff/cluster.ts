/**
 * Cluster-level changes: every field of flat6:cluster outside `racks` (with
 * defaults applied, addresses compared in canonical form), the flat6:aws
 * section, and any other config key (values of secrets never shown). Marks
 * the changes a live cluster cannot take (DISRUPTIVE).
 */
import { formatAddress, formatPrefix, parseAddress, parsePrefix } from '../core/ip.js';
import type { ClusterPlan } from '../plan/plan.js';
import { CLUSTER_KEY, isPlainObject, type LoadedStack } from '../spec/load.js';
import type { FieldChange } from './types.js';

export const AWS_KEY = 'flat6:aws';
export const OCI_KEY = 'flat6:oci';
/** Sections of cloud stacks: their machines boot from node pools, not from the racks of flat6:cluster. */
export const CLOUD_KEYS: readonly string[] = [AWS_KEY, OCI_KEY];

export function cloudKeyOf(stack: LoadedStack): string | undefined {
  return CLOUD_KEYS.find((k) => stack.config[k] !== undefined);
}

/** Fields of flat6:cluster that are not for a live cluster to change, and why. */
const DISRUPTIVE_FIELDS: Record<string, string> = {
  name: 'the cluster name is in every certificate and kubeconfig kubeadm made; a live cluster cannot be renamed',
  'network.pods': 'the pod range (kubeadm podSubnet) of a live cluster cannot change: every pod prefix and pod address moves',
  'network.services': 'the service range of a live cluster cannot change: every Service address, the API Service and the DNS Service address move',
  'controlPlane.vip': 'the API endpoint address is in every kubeconfig, join configuration and the API server certificate',
};

/** In the clouds the node and pod ranges and the VIP of flat6:cluster are not used (the network's /56 is), so only these stay disruptive. */
const DISRUPTIVE_IN_CLOUD = new Set(['name', 'network.services']);

const DISRUPTIVE_CLOUD_FIELDS: Partial<Record<string, Record<string, string>>> = {
  [AWS_KEY]: {
    region: 'a stack moved to another region is a new VPC and new machines: nothing of the cluster survives',
    ipv4Cidr: "the VPC's IPv4 CIDR cannot change in place: the VPC and everything in it are replaced",
  },
  [OCI_KEY]: {
    region: 'a stack moved to another region is a new VCN and new machines: nothing of the cluster survives',
  },
};

/** Fields of flat6:cluster whose change moves node addresses, pod prefixes or gateways. */
export const ADDRESS_FIELDS = [
  'network.nodes',
  'network.racks',
  'network.rackBlockLength',
  'network.rackSubnetLength',
  'network.pods',
  'network.podPrefixLength',
  'layout.slotsPerRack',
  'layout.hostOffset',
  'layout.gatewayOffset',
] as const;

/** An IPv6 address or prefix in RFC 5952 form, anything else as written. */
function canonical(text: string): string {
  try {
    return text.includes('/') ? formatPrefix(parsePrefix(text)) : formatAddress(parseAddress(text));
  } catch {
    return text;
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return canonical(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (isPlainObject(v)) return JSON.stringify(v);
  return String(v);
}

/** Dotted path -> shown value of every leaf (lists are one leaf). */
function flatten(v: unknown, prefix: string, out: Map<string, string>, skip: (path: string) => boolean): Map<string, string> {
  if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (!skip(p)) flatten(x, p, out, skip);
    }
  } else if (prefix) {
    out.set(prefix, show(v));
  }
  return out;
}

/** flat6:cluster fields the diff reads from elsewhere (racks) or that only restate another field. */
function skipCluster(path: string): boolean {
  return path === 'racks' || path === 'routing.fabricDefaulted';
}

function diffMaps(
  section: string,
  base: Map<string, string>,
  head: Map<string, string>,
  locate: (path: string) => FieldChange['location'],
  disruptive: (path: string) => string | undefined,
): FieldChange[] {
  const out: FieldChange[] = [];
  for (const path of [...new Set([...base.keys(), ...head.keys()])].sort()) {
    const o = base.get(path);
    const n = head.get(path);
    if (o === n) continue;
    const why = disruptive(path);
    out.push({ section, path, ...(o !== undefined ? { old: o } : {}), ...(n !== undefined ? { new: n } : {}), location: locate(path), ...(why ? { disruptive: why } : {}) });
  }
  return out;
}

/** Changes of flat6:cluster outside racks. */
export function clusterChanges(base: LoadedStack, head: LoadedStack): FieldChange[] {
  const cloud = cloudKeyOf(base) !== undefined || cloudKeyOf(head) !== undefined;
  const b = flatten(base.spec, '', new Map(), skipCluster);
  const h = flatten(head.spec, '', new Map(), skipCluster);
  return diffMaps(CLUSTER_KEY, b, h, (p) => head.locate(p), (p) => (cloud && !DISRUPTIVE_IN_CLOUD.has(p) ? undefined : DISRUPTIVE_FIELDS[p]));
}

/** A config value that is (or holds) an encrypted Pulumi secret. */
function holdsSecret(v: unknown): boolean {
  if (isPlainObject(v)) return Object.hasOwn(v, 'secure') || Object.values(v).some(holdsSecret);
  if (Array.isArray(v)) return v.some(holdsSecret);
  return false;
}

/** Keys whose values are secrets even in plain text. */
const SECRET_KEY = /(token|key|secret|password|passphrase|credential)/i;

/** Changes of the cloud sections (flat6:aws, flat6:oci) and of every other config key but flat6:cluster. */
export function configChanges(base: LoadedStack, head: LoadedStack): FieldChange[] {
  const out: FieldChange[] = [];
  for (const key of CLOUD_KEYS) {
    const bc = base.config[key];
    const hc = head.config[key];
    if (bc === undefined && hc === undefined) continue;
    const b = flatten(bc ?? {}, '', new Map(), () => false);
    const h = flatten(hc ?? {}, '', new Map(), () => false);
    const locate = (p: string): FieldChange['location'] =>
      head.locateIn(
        key,
        p.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
      );
    out.push(...diffMaps(key, b, h, locate, (p) => DISRUPTIVE_CLOUD_FIELDS[key]?.[p]));
  }
  const keys = [...new Set([...Object.keys(base.config), ...Object.keys(head.config)])].filter((k) => k !== CLUSTER_KEY && !CLOUD_KEYS.includes(k)).sort();
  for (const key of keys) {
    const o = base.config[key];
    const n = head.config[key];
    if (JSON.stringify(o) === JSON.stringify(n)) continue;
    const secret = SECRET_KEY.test(key) || holdsSecret(o) || holdsSecret(n);
    const text = (v: unknown): string | undefined => (v === undefined ? undefined : secret ? '(secret)' : show(v));
    const ot = text(o);
    const nt = text(n);
    out.push({ section: key, path: '', ...(ot !== undefined ? { old: ot } : {}), ...(nt !== undefined ? { new: nt } : {}), location: head.locateIn(key, [], true) });
  }
  return out;
}

/** Control-plane membership: the control-plane nodes by name on each side. */
export function controlPlaneChange(base: ClusterPlan, head: ClusterPlan, head0: LoadedStack): FieldChange | undefined {
  const b = base.controlPlanes.map((n) => n.name);
  const h = head.controlPlanes.map((n) => n.name);
  const bs = new Set(b);
  const hs = new Set(h);
  if (b.length === h.length && b.every((x) => hs.has(x)) && h.every((x) => bs.has(x))) return undefined;
  const gone = b.filter((x) => !hs.has(x));
  const joined = h.filter((x) => !bs.has(x));
  const what = [gone.length ? `leaving: ${gone.join(', ')}` : '', joined.length ? `joining: ${joined.join(', ')}` : ''].filter(Boolean).join('; ');
  return {
    section: CLUSTER_KEY,
    path: 'controlPlane (members)',
    old: b.join(', '),
    new: h.join(', '),
    location: head0.locate('controlPlane'),
    disruptive: `control-plane membership changes (${what}): etcd members and API servers must be added or removed one at a time by hand (kubeadm join --control-plane, etcdctl member remove), not by re-rendering`,
  };
}
