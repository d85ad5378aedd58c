/**
 * EC2 instance types flat6 can run nodes on. IPv6-only subnets and IPv6 prefix
 * delegation (the node's /80 for pods) exist only on the AWS Nitro System, so
 * every node must be a Nitro type. Pure: no Pulumi, no AWS calls.
 */

export type Arch = 'x86_64' | 'arm64';

/**
 * Families of the fifth generation and older (and special families) that run
 * on Nitro. Every family of the sixth generation onward is Nitro; see
 * isNitroInstanceType.
 */
export const NITRO_FAMILIES: ReadonlySet<string> = new Set([
  'a1',
  't3', 't3a', 't4g',
  'm5', 'm5a', 'm5ad', 'm5d', 'm5dn', 'm5n', 'm5zn',
  'c5', 'c5a', 'c5ad', 'c5d', 'c5n',
  'r5', 'r5a', 'r5ad', 'r5b', 'r5d', 'r5dn', 'r5n',
  'x2gd', 'x2idn', 'x2iedn', 'x2iezn', 'z1d',
  'd3', 'd3en', 'i3en', 'i4g', 'i4i', 'im4gn', 'is4gen',
  'g4ad', 'g4dn', 'g5', 'g5g', 'inf1', 'inf2', 'p3dn', 'p4d', 'p4de', 'p5', 'p5e', 'p5en',
  'trn1', 'trn1n', 'trn2', 'dl1', 'dl2q', 'vt1', 'f2',
]);

/** Xen-based families: no IPv6-only subnets, no prefix delegation. */
export const XEN_FAMILIES: ReadonlySet<string> = new Set([
  't1', 't2', 'm1', 'm2', 'm3', 'm4', 'c1', 'c3', 'c4', 'r3', 'r4', 'x1', 'x1e',
  'i2', 'i3', 'd2', 'h1', 'g2', 'g3', 'g3s', 'p2', 'p3', 'f1', 'cc2', 'cr1', 'hs1',
]);

export interface InstanceTypeVerdict {
  ok: boolean;
  /** why not, when !ok */
  reason?: string;
  arch?: Arch;
}

const TYPE_RE = /^([a-z][a-z0-9-]*)\.([a-z0-9-]+)$/;
const FAMILY_RE = /^([a-z]+)(\d+)([a-z0-9-]*)$/;

/** The family part of an instance type ("m7i-flex" of "m7i-flex.large"). */
export function familyOf(instanceType: string): string | undefined {
  return TYPE_RE.exec(instanceType)?.[1];
}

/** Graviton families carry a "g" right after the generation (m7g, c7gn, t4g, is4gen); a1 is Graviton too. */
export function archOf(instanceType: string): Arch {
  const family = familyOf(instanceType) ?? '';
  if (family === 'a1') return 'arm64';
  const m = FAMILY_RE.exec(family);
  return m && m[3].startsWith('g') ? 'arm64' : 'x86_64';
}

export function checkInstanceType(instanceType: string): InstanceTypeVerdict {
  const t = TYPE_RE.exec(instanceType);
  if (!t) return { ok: false, reason: `"${instanceType}" is not an EC2 instance type (family.size, e.g. m7i.large)` };
  const [, family, size] = t as unknown as [string, string, string];
  if (family.startsWith('mac')) {
    return { ok: false, reason: `${instanceType} is a Mac instance: Mac instances cannot be Kubernetes nodes here` };
  }
  if (family.startsWith('u-')) return { ok: true, arch: 'x86_64' };
  if (family === 'i3' && size === 'metal') return { ok: true, arch: 'x86_64' };
  if (XEN_FAMILIES.has(family)) {
    return { ok: false, reason: `${instanceType} runs on the Xen hypervisor, not the AWS Nitro System` };
  }
  const m = FAMILY_RE.exec(family);
  if (!m) return { ok: false, reason: `"${instanceType}" is not an EC2 instance type (family.size, e.g. m7i.large)` };
  const generation = Number(m[2]);
  if (NITRO_FAMILIES.has(family) || generation >= 6) return { ok: true, arch: archOf(instanceType) };
  return { ok: false, reason: `${instanceType} is not a known AWS Nitro System type` };
}

export function isNitroInstanceType(instanceType: string): boolean {
  return checkInstanceType(instanceType).ok;
}

export const NITRO_FIX =
  'use a Nitro instance type (IPv6-only subnets and the per-node /80 prefix need Nitro), e.g. t3.medium, m7i.large or m7g.large (arm64)';
