/**
 * Recognising IPv4 where it matters: a whole token that is an IPv4 address,
 * `address:port`, a URL with an IPv4 host or an IPv4 CIDR, and the names of
 * settings that hold addresses. Strict on purpose: four decimal octets of
 * 0-255 without leading zeros, so version numbers with fewer or more parts and
 * OIDs (1.3.6.1.4.1...) never match; whether a match is reported then depends
 * on where it stands (docs/audit.md, "What is matched").
 */
import { IpError, parseIp, parseIpPrefix, type IpFamily } from '../core/ip.js';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const V4 = `${OCTET}(?:\\.${OCTET}){3}`;
const ADDRESS_RE = new RegExp(`^${V4}$`);
const HOST_PORT_RE = new RegExp(`^(${V4}):(\\d{1,5})$`);
const CIDR_RE = new RegExp(`^(${V4})/(3[0-2]|[12]?\\d)$`);
const SCHEME_RE = /^[a-z][a-z0-9+.-]{0,31}:\/\//i;

export type Ipv4Form =
  /** 0.0.0.0 (with or without a port or scheme) */
  | 'wildcard'
  /** 127.0.0.0/8: still there inside every pod, never a problem by itself */
  | 'loopback'
  | 'address'
  | 'cidr';

export interface Ipv4Token {
  form: Ipv4Form;
  /** the address (or network) itself */
  address: string;
  port?: number;
  /** the token carried a port or a URL scheme: it is an endpoint, not a bare number-like string */
  endpoint: boolean;
}

export function isIpv4Address(text: string): boolean {
  return ADDRESS_RE.test(text);
}

function formOf(address: string): Ipv4Form {
  if (address === '0.0.0.0') return 'wildcard';
  if (address.startsWith('127.')) return 'loopback';
  return 'address';
}

/** Quotes, brackets and trailing punctuation around a token in text (`"0.0.0.0",` -> 0.0.0.0). */
export function trimToken(token: string): string {
  return token.replace(/^[\s"'`([{<]+/, '').replace(/[\s"'`)\]}>;,]+$/, '');
}

/**
 * Classify one token (no spaces): an IPv4 address, `address:port`, a URL
 * whose host is IPv4 (`http://10.0.0.1:8080/x`, `tcp://0.0.0.0:53`) or an IPv4
 * CIDR. Anything else (a name, an IPv6 literal, IPv4-mapped IPv6, a version
 * string such as 1.2.3 or 1.2.3.4.5) is undefined.
 */
export function classifyToken(raw: string): Ipv4Token | undefined {
  let t = trimToken(raw);
  if (t.length < 7 || t.length > 2048) return undefined;
  let endpoint = false;
  const scheme = SCHEME_RE.exec(t);
  if (scheme) {
    endpoint = true;
    t = t.slice(scheme[0].length);
    const end = t.search(/[/?#]/);
    if (end >= 0) t = t.slice(0, end);
    const at = t.lastIndexOf('@');
    if (at >= 0) t = t.slice(at + 1);
  }
  if (ADDRESS_RE.test(t)) return { form: formOf(t), address: t, endpoint };
  const hp = HOST_PORT_RE.exec(t);
  if (hp) {
    const port = Number(hp[2]);
    if (port > 65535) return undefined;
    return { form: formOf(hp[1]), address: hp[1], port, endpoint: true };
  }
  if (!scheme) {
    const c = CIDR_RE.exec(t);
    if (c) return { form: c[1].startsWith('127.') ? 'loopback' : 'cidr', address: t, endpoint: false };
  }
  return undefined;
}

/** Family of an address literal as Kubernetes reads it (Go's net.ParseIP); undefined if it is none. */
export function familyOf(text: unknown): IpFamily | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  try {
    return parseIp(text).family;
  } catch (e) {
    if (e instanceof IpError) return undefined;
    throw e;
  }
}

/** Family of a CIDR (host bits allowed); undefined if it is none. */
export function cidrFamilyOf(text: unknown): IpFamily | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  try {
    return parseIpPrefix(text.trim(), true).family;
  } catch (e) {
    if (e instanceof IpError) return undefined;
    throw e;
  }
}

/**
 * Family of the host in `host:port`, `[v6]:port`, `:port` (undefined host), a
 * bare address or a URL. Used for component settings such as
 * healthzBindAddress ("0.0.0.0:10256") and controlPlaneEndpoint.
 */
export function hostFamilyOf(text: unknown): { family: IpFamily; host: string } | undefined {
  if (typeof text !== 'string' || text.length > 2048) return undefined;
  let t = text.trim();
  const scheme = SCHEME_RE.exec(t);
  if (scheme) {
    t = t.slice(scheme[0].length);
    const end = t.search(/[/?#]/);
    if (end >= 0) t = t.slice(0, end);
  }
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    const host = close > 0 ? t.slice(1, close) : '';
    return familyOf(host) === 6 ? { family: 6, host } : undefined;
  }
  const whole = familyOf(t);
  if (whole) return { family: whole, host: t };
  const colon = t.lastIndexOf(':');
  if (colon > 0 && /^\d{1,5}$/.test(t.slice(colon + 1))) {
    const host = t.slice(0, colon);
    const f = familyOf(host);
    if (f) return { family: f, host };
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Names of settings
// ---------------------------------------------------------------------------

/** Words that make a setting an address (where to bind or whom to reach). */
const ADDRESS_WORDS = new Set([
  'addr', 'address', 'addresses', 'advertise', 'backend', 'backends', 'bind', 'binding', 'broker', 'brokers',
  'dest', 'destination', 'dns', 'endpoint', 'endpoints', 'forward', 'gateway', 'host', 'hosts', 'interface',
  'ip', 'ips', 'listen', 'listener', 'listeners', 'master', 'nameserver', 'nameservers', 'origin', 'pass',
  'peer', 'peers', 'proxy', 'remote', 'resolver', 'resolvers', 'seed', 'seeds', 'server', 'servers',
  'target', 'targets', 'upstream', 'upstreams', 'uri', 'url', 'urls',
]);

/** Words that make a setting where binding happens (the message says "binds"). */
const BIND_WORDS = new Set(['bind', 'binding', 'listen', 'listener', 'listeners', 'advertise', 'interface']);

/** Words that make a setting prose or a version, never an address. */
const VETO_WORDS = new Set([
  'version', 'versions', 'ver', 'tag', 'tags', 'oid', 'oids', 'release', 'build', 'image', 'digest', 'checksum', 'sha',
  'description', 'desc', 'help', 'doc', 'docs', 'documentation', 'comment', 'comments', 'note', 'notes', 'summary',
  'example', 'examples', 'usage', 'message', 'msg', 'text', 'title', 'label', 'hint',
]);

/** `--metrics-bind-address`, `LISTEN_ADDR`, `server.host`, `upstreamURL` -> lower-case words. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export interface NameClass {
  address: boolean;
  bind: boolean;
  veto: boolean;
}

export function classifyName(name: string | null | undefined): NameClass {
  if (!name) return { address: false, bind: false, veto: false };
  const words = nameWords(name);
  return {
    address: words.some((w) => ADDRESS_WORDS.has(w)),
    bind: words.some((w) => BIND_WORDS.has(w)),
    veto: words.some((w) => VETO_WORDS.has(w)),
  };
}
