/**
 * Value helpers for the checks: IP literals and CIDRs (through src/core/ip.ts, flat6's one IP
 * parser), host:port splitting, DNS names, Go durations, and JSON shape tests.
 */
import { IpError, parseIp, parseIpPrefix, type IpAddress, type IpPrefix } from '../core/ip.js';
import type { JsonObject } from './dsl.js';

/** A literal IP address of either family, as Go's net.ParseIP reads it (no brackets, no zone), or undefined. */
export function ipOf(s: string): IpAddress | undefined {
  try {
    return parseIp(s);
  } catch (e) {
    if (e instanceof IpError) return undefined;
    throw e;
  }
}

/** A CIDR as Go's net.ParseCIDR reads it (host bits allowed and masked off), or undefined. */
export function cidrOf(s: string): IpPrefix | undefined {
  try {
    return parseIpPrefix(s, true);
  } catch (e) {
    if (e instanceof IpError) return undefined;
    throw e;
  }
}

export const familyBits = (family: 4 | 6): number => (family === 6 ? 128 : 32);

export function cidrContains(c: IpPrefix, ip: IpAddress): boolean {
  if (c.family !== ip.family) return false;
  const hostMask = (1n << BigInt(familyBits(c.family) - c.length)) - 1n;
  return (ip.value & ~hostMask) === c.base;
}

/** net.SplitHostPort semantics: "[v6]:port" or "host:port"; an unbracketed host may not contain ':'. */
export function splitHostPort(s: string): { host: string; port: string; bracketed: boolean } | string {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return 'missing "]" in address';
    if (s[end + 1] !== ':') return end + 1 === s.length ? 'missing port in address' : 'unexpected text after "]"';
    return { host: s.slice(1, end), port: s.slice(end + 2), bracketed: true };
  }
  const colon = s.lastIndexOf(':');
  if (colon < 0) return 'missing port in address';
  const host = s.slice(0, colon);
  if (host.includes(':')) {
    return ipOf(s) || ipOf(host)
      ? 'an IPv6 literal host must be written in brackets, e.g. "[2001:db8::1]:6443"'
      : 'too many colons in address';
  }
  return { host, port: s.slice(colon + 1), bracketed: false };
}

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);

export function isDNS1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN_RE.test(s);
}

const DURATION_UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
const DURATION_RE = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

/** Go time.ParseDuration (the metav1.Duration wire format) → nanoseconds, or undefined. */
export function parseGoDuration(s: string): number | undefined {
  if (!DURATION_RE.test(s)) return undefined;
  const sign = s.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const m of s.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(m[1]) * DURATION_UNIT_NS[m[2]];
  }
  return sign * total;
}

export function durationAt(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'string' ? parseGoDuration(v) : undefined;
}

export function field(o: unknown, ...keys: string[]): unknown {
  let cur = o;
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as JsonObject)[k];
  }
  return cur;
}

export function isPlainObject(v: unknown): v is JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
  return typeof v;
}
