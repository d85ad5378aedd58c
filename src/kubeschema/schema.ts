/**
 * Strict structural validator for the Kubernetes configuration documents flat6 renders.
 *
 * The schema below is data: a small type-descriptor DSL (obj / str / bool / int32 / list / map /
 * anyOf / opaque) plus named semantic checks. Every object is closed: a key that is not listed is
 * reported, which is how a misspelt or misplaced field fails. Written from the upstream references
 * (no upstream code is copied):
 *
 *   kubeadm.k8s.io/v1beta4
 *     kubernetes/kubernetes  cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go            (Kubernetes v1.31 – v1.36)
 *     kubernetes/kubernetes  cmd/kubeadm/app/apis/kubeadm/validation/validation.go    (semantic rules, cited by name)
 *     kubernetes/kubernetes  cmd/kubeadm/app/constants/constants.go                   (subnet / key size limits)
 *     kubernetes/kubernetes  cmd/kubeadm/app/util/marshal.go  SplitConfigDocuments    (one document per kind)
 *     kubernetes/website     content/en/docs/reference/config-api/kubeadm-config.v1beta4.md
 *   kubelet.config.k8s.io/v1beta1
 *     kubernetes/kubelet (staging/src/k8s.io/kubelet) config/v1beta1/types.go         tag v0.36.3 (Kubernetes v1.36.3)
 *     kubernetes/website     content/en/docs/reference/config-api/kubelet-config.v1beta1.md
 *   kubeproxy.config.k8s.io/v1alpha1
 *     kubernetes/kube-proxy (staging/src/k8s.io/kube-proxy) config/v1alpha1/types.go  tag v0.36.3 (Kubernetes v1.36.3)
 *     kubernetes/kubernetes  pkg/proxy/apis/config/validation/validation.go
 *     kubernetes/website     content/en/docs/reference/config-api/kube-proxy-config.v1alpha1.md
 *   shared component-base types (logging, tracing, client connection):
 *     kubernetes/component-base logs/api/v1/types.go, tracing/api/v1/types.go, config/v1alpha1/types.go  tag v0.36.3
 *
 * Where this validator is deliberately stricter than upstream it says so next to the rule
 * ("flat6:"): JSON null is rejected everywhere (omit the field instead), endpoints must carry an
 * explicit port, and a few cross-document consistency rules are enforced in validateKubeadmFile.
 *
 * Deliberately shallow: EnvVar.valueFrom (core/v1 EnvVarSource) is only checked to be an object;
 * map keys of featureGates are not checked against a list of known gates (the set changes every
 * release); TLS cipher-suite names and CPU/topology-manager policy option keys are free strings.
 */

import { isIP } from 'node:net';

export interface SchemaIssue {
  path: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// The DSL
// ---------------------------------------------------------------------------------------------

/** Reports an issue; `sub` is a path relative to the value being checked (e.g. "ttl", "[0]"). */
type Report = (message: string, sub?: string) => void;
type Check<V> = (value: V, report: Report) => void;
type JsonObject = Record<string, unknown>;

interface Common {
  /** Key must be present (upstream field without omitempty that validation requires). */
  required?: boolean;
}
interface StringT extends Common {
  t: 'string';
  label?: string;
  enum?: readonly string[];
  /** Checks run on non-empty strings only: "" is Go's zero value, i.e. "unset". */
  checks?: readonly Check<string>[];
  /** Also reject "". */
  nonEmpty?: boolean;
}
interface BoolT extends Common {
  t: 'bool';
}
interface IntT extends Common {
  t: 'int';
  label: string;
  min: number;
  max: number;
}
interface FloatT extends Common {
  t: 'float';
  label: string;
  checks?: readonly Check<number>[];
}
interface ListT extends Common {
  t: 'list';
  item: TypeDesc;
  checks?: readonly Check<unknown[]>[];
  /** Extra explanation when the value is not a list. */
  notListHint?: string;
}
interface MapT extends Common {
  t: 'map';
  value: TypeDesc;
  keyChecks?: readonly Check<string>[];
}
interface ObjT extends Common {
  t: 'object';
  name: string;
  fields: Readonly<Record<string, TypeDesc>>;
  checks?: readonly Check<JsonObject>[];
}
interface AnyOfT extends Common {
  t: 'anyOf';
  label: string;
  /** The first option whose JSON type matches the value is used to validate it. */
  options: readonly TypeDesc[];
}
interface OpaqueT extends Common {
  t: 'opaque';
  label: string;
}
type TypeDesc = StringT | BoolT | IntT | FloatT | ListT | MapT | ObjT | AnyOfT | OpaqueT;

const INT32: [number, number] = [-2147483648, 2147483647];
const UINT32_MAX = 4294967295;

const str = (o: Omit<StringT, 't'> = {}): StringT => ({ t: 'string', ...o });
const oneOfStr = (values: readonly string[], o: Omit<StringT, 't' | 'enum'> = {}): StringT => ({ t: 'string', enum: values, ...o });
const bool = (): BoolT => ({ t: 'bool' });
function intT(kind: string, lo: number, hi: number, min?: number, max?: number): IntT {
  const range = min === undefined && max === undefined ? '' : max === undefined ? ` >= ${min}` : ` in [${min ?? lo}, ${max}]`;
  return { t: 'int', label: `${kind}${range}`, min: min ?? lo, max: max ?? hi };
}
const int32 = (min?: number, max?: number): IntT => intT('int32', INT32[0], INT32[1], min, max);
const int64 = (min?: number, max?: number): IntT => intT('int64', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, min, max);
const uint32 = (): IntT => intT('uint32', 0, UINT32_MAX);
const float = (checks?: Check<number>[]): FloatT => ({ t: 'float', label: 'number', checks });
const list = (item: TypeDesc, o: Omit<ListT, 't' | 'item'> = {}): ListT => ({ t: 'list', item, ...o });
const map = (value: TypeDesc, o: Omit<MapT, 't' | 'value'> = {}): MapT => ({ t: 'map', value, ...o });
const obj = (name: string, fields: Record<string, TypeDesc>, checks?: Check<JsonObject>[]): ObjT => ({
  t: 'object',
  name,
  fields,
  checks,
});
const anyOf = (label: string, ...options: TypeDesc[]): AnyOfT => ({ t: 'anyOf', label, options });
const opaque = (label: string): OpaqueT => ({ t: 'opaque', label });
const req = <T extends TypeDesc>(t: T): T => ({ ...t, required: true });

// ---------------------------------------------------------------------------------------------
// Value helpers (addresses, CIDRs, durations) — node builtins only
// ---------------------------------------------------------------------------------------------

interface ParsedIP {
  family: 4 | 6;
  value: bigint;
}

/** Literal IP address, as Go's net.ParseIP reads it (no brackets, no zone). */
function parseIP(s: string): ParsedIP | undefined {
  if (s.includes('%') || s.includes('[')) return undefined;
  const fam = isIP(s);
  if (fam === 4) {
    return { family: 4, value: s.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
  }
  if (fam !== 6) return undefined;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // embedded IPv4 in the last 32 bits: rewrite it as two hex groups
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number];
    text = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const r = rest === undefined ? [] : rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? [] : new Array<string>(8 - h.length - r.length).fill('0');
  const groups = [...h, ...fill, ...r];
  if (groups.length !== 8) return undefined;
  return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

interface ParsedCIDR {
  family: 4 | 6;
  network: bigint;
  prefix: number;
  bits: 32 | 128;
}

function parseCIDR(s: string): ParsedCIDR | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(p)) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = Number(p);
  if (prefix > bits) return undefined;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  return { family: ip.family, network: ip.value & ~hostMask, prefix, bits };
}

function cidrContains(c: ParsedCIDR, ip: ParsedIP): boolean {
  if (c.family !== ip.family) return false;
  const hostMask = (1n << BigInt(c.bits - c.prefix)) - 1n;
  return (ip.value & ~hostMask) === c.network;
}

/** net.SplitHostPort semantics: "[v6]:port" or "host:port"; an unbracketed host may not contain ':'. */
function splitHostPort(s: string): { host: string; port: string; bracketed: boolean } | string {
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
    return parseIP(s) || parseIP(host)
      ? 'an IPv6 literal host must be written in brackets, e.g. "[2001:db8::1]:6443"'
      : 'too many colons in address';
  }
  return { host, port: s.slice(colon + 1), bracketed: false };
}

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);

function isDNS1123Subdomain(s: string): boolean {
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
function parseGoDuration(s: string): number | undefined {
  if (!DURATION_RE.test(s)) return undefined;
  const sign = s.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const m of s.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(m[1]) * DURATION_UNIT_NS[m[2]!]!;
  }
  return sign * total;
}

function durationAt(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'string' ? parseGoDuration(v) : undefined;
}

function field(o: unknown, ...keys: string[]): unknown {
  let cur = o;
  for (const k of keys) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as JsonObject)[k];
  }
  return cur;
}

function isPlainObject(v: unknown): v is JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Edit distance with adjacent transpositions (optimal string alignment), for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

// ---------------------------------------------------------------------------------------------
// Named semantic checks (string-level). Each cites the upstream function it follows.
// ---------------------------------------------------------------------------------------------

/** kubeadm ValidateIPFromString / kubelet & kube-proxy "must be a valid IP": a literal, no brackets. */
const ipLiteral: Check<string> = (v, report) => {
  if (parseIP(v)) return;
  if (/^\[.*\]$/.test(v) && parseIP(v.slice(1, -1))) report('must be a bare IP literal, without brackets');
  else report(`"${v}" is not a valid IP address`);
};

function portCheck(port: string, report: Report): void {
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    report(`port "${port}" must be a number between 1 and 65535`);
  }
}

/**
 * host:port where host is an IP or an RFC 1123 DNS subdomain; an IPv6 host must be bracketed.
 * kubeadm ValidateHostPort (controlPlaneEndpoint, via kubeadmutil.ParseHostPort) and
 * ValidateDiscoveryTokenAPIServer (net.SplitHostPort). flat6: the port is mandatory (upstream
 * lets controlPlaneEndpoint omit it, which makes "2001:db8::1:6443" ambiguous).
 */
const hostPort: Check<string> = (v, report) => {
  const hp = splitHostPort(v);
  if (typeof hp === 'string') return report(`"${v}" is not host:port: ${hp}`);
  portCheck(hp.port, report);
  if (hp.bracketed) {
    if (parseIP(hp.host)?.family !== 6) report(`"${hp.host}" in brackets must be an IPv6 address`);
  } else if (!parseIP(hp.host) && !isDNS1123Subdomain(hp.host)) {
    report(`host "${hp.host}" must be a valid IP address or a lowercase RFC 1123 DNS subdomain`);
  }
};

/** IP:port, IPv6 bracketed. kube-proxy validation validateHostPort (healthz / metrics bind addresses). */
const ipPort: Check<string> = (v, report) => {
  const hp = splitHostPort(v);
  if (typeof hp === 'string') return report(`"${v}" is not IP:port: ${hp}`);
  portCheck(hp.port, report);
  if (!parseIP(hp.host)) report(`host "${hp.host}" must be an IP address`);
};

/** apimachinery validation.IsDNS1123Subdomain (kubeadm ValidateNodeRegistrationOptions, ValidateNetworking dnsDomain). */
const dns1123Subdomain: Check<string> = (v, report) => {
  if (!isDNS1123Subdomain(v)) {
    report(`"${v}" must be a lowercase RFC 1123 subdomain (a-z, 0-9, "-", ".", at most 253 characters)`);
  }
};

/** kubeadm ValidateCertSANs: DNS subdomain, wildcard DNS subdomain, or IP. */
const certSAN: Check<string> = (v, report) => {
  const dns = v.startsWith('*.') ? v.slice(2) : v;
  if (!isDNS1123Subdomain(dns) && !parseIP(v)) {
    report(`"${v}" is not a valid IP address, DNS name or wildcard DNS name`);
  }
};

/** bootstraputil.IsValidBootstrapToken (kubeadm ValidateToken). */
const bootstrapToken: Check<string> = (v, report) => {
  if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(v)) report('bootstrap token must match ^[a-z0-9]{6}\\.[a-z0-9]{16}$');
};

/** bootstraputil.ValidateBootstrapGroupName (kubeadm ValidateTokenGroups). */
const bootstrapGroup: Check<string> = (v, report) => {
  if (!/^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(v)) {
    report(`group "${v}" must match ^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`);
  }
};

/** kubeadm ValidateCertificateKey: hex encoded AES key of constants.CertificateKeySize (32) bytes. */
const certificateKey: Check<string> = (v, report) => {
  if (!/^[0-9a-fA-F]*$/.test(v) || v.length % 2 !== 0) report('certificate key must be hex encoded');
  else if (v.length !== 64) report(`certificate key is ${v.length / 2} bytes, it must be a 32-byte AES key (64 hex characters)`);
};

/** kubeadm pubkeypin (ValidateDiscoveryBootstrapToken): "sha256:" + hex SHA-256 of the CA's SPKI. */
const caCertHash: Check<string> = (v, report) => {
  if (!/^sha256:[0-9a-fA-F]{64}$/.test(v)) report(`"${v}" must be "sha256:" followed by 64 hex characters`);
};

/** ClusterConfiguration.kubernetesVersion. flat6: an explicit release, not a label like "stable-1". */
const kubernetesVersion: Check<string> = (v, report) => {
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(v)) {
    report(`"${v}" must look like vX.Y.Z (e.g. "v1.36.3")`);
  }
};

/** kubeadm ValidateAbsolutePath. */
const absolutePath: Check<string> = (v, report) => {
  if (!v.startsWith('/')) report(`"${v}" must be an absolute path`);
};

/** kubeadm ValidateSocketPath: a URL with the "unix" scheme (kubeadmapiv1.DefaultContainerRuntimeURLScheme). */
const unixSocketURL: Check<string> = (v, report) => {
  if (!/^unix:\/\/\/.+/.test(v)) report(`"${v}" must be a unix socket URL, e.g. "unix:///run/containerd/containerd.sock"`);
};

/** kubelet containerRuntimeEndpoint / imageServiceEndpoint: unix:// (Linux) or npipe:// (Windows). */
const criEndpoint: Check<string> = (v, report) => {
  if (!/^(unix:\/\/\/.+|npipe:\/\/.+)$/.test(v)) report(`"${v}" must be a unix:// (or npipe://) endpoint URL`);
};

/** kubeadm ValidateImageRepository: "<repo>/name:tag" must be a valid image reference. */
const imageRepository: Check<string> = (v, report) => {
  const host = '(\\[[0-9a-fA-F:.]+\\]|[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(:\\d+)?';
  const comp = '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*';
  if (!new RegExp(`^(${host}/)?${comp}(/${comp})*$`).test(v)) report(`"${v}" is not a valid image repository`);
};

/** metav1.Duration wire format (Go time.ParseDuration). */
const goDuration: Check<string> = (v, report) => {
  if (parseGoDuration(v) === undefined) report(`"${v}" is not a Go duration (e.g. "30s", "5m", "1h30m")`);
};

/** metav1.Time wire format (RFC 3339). */
const rfc3339: Check<string> = (v, report) => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) report(`"${v}" is not an RFC 3339 timestamp`);
};

/** resource.Quantity string form. */
const QUANTITY_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const quantity: Check<string> = (v, report) => {
  if (!QUANTITY_RE.test(v)) report(`"${v}" is not a resource quantity (e.g. "100m", "256Mi")`);
};

/** Kubelet eviction thresholds: a quantity or a percentage (kubelet eviction ParseThresholdConfig). */
const quantityOrPercent: Check<string> = (v, report) => {
  const pct = /^(\d+(\.\d+)?)%$/.exec(v);
  if (pct) {
    if (Number(pct[1]) > 100) report(`percentage "${v}" must be between 0% and 100%`);
  } else if (!QUANTITY_RE.test(v)) report(`"${v}" must be a quantity (e.g. "100Mi") or a percentage (e.g. "10%")`);
};

/** URL with http/https scheme (kubeadm ValidateURLs for external etcd endpoints). */
const httpURL: Check<string> = (v, report) => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return report(`"${v}" is not a valid URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') report(`"${v}" must use the http or https scheme`);
};

/**
 * Comma-separated CIDR list, one per family (kubeadm ValidateIPNetFromString), optionally with the
 * service-subnet size cap (ValidateServiceSubnetSize: at most constants.MaximumBitsForServiceSubnet
 * = 20 host bits, i.e. IPv6 mask >= /108, IPv4 mask >= /12).
 */
function cidrs(o: { minAddresses?: number; maxHostBits?: number }): Check<string> {
  return (v, report) => {
    const parts = v.split(',');
    const parsed: ParsedCIDR[] = [];
    for (const p of parts) {
      const c = parseCIDR(p);
      if (!c) return report(`"${p}" is not a valid CIDR`);
      parsed.push(c);
    }
    if (parsed.length > 2 || (parsed.length === 2 && parsed[0]!.family === parsed[1]!.family)) {
      report('expected one CIDR, or two CIDRs of different IP families for dual-stack');
    }
    for (const c of parsed) {
      const hostBits = c.bits - c.prefix;
      if (o.minAddresses !== undefined && 2 ** hostBits < o.minAddresses) {
        report(`subnet /${c.prefix} is too small, the minimum is ${o.minAddresses} addresses`);
      }
      if (o.maxHostBits !== undefined && hostBits > o.maxHostBits) {
        report(`subnet /${c.prefix} is too large; for ${c.bits}-bit addresses the mask must be >= /${c.bits - o.maxHostBits}`);
      }
    }
  };
}
const singleCIDR: Check<string> = (v, report) => {
  if (!parseCIDR(v)) report(`"${v}" is not a valid CIDR`);
};

// ---------------------------------------------------------------------------------------------
// Shared descriptors
// ---------------------------------------------------------------------------------------------

const duration = str({ label: 'duration string', checks: [goDuration] });
const time = str({ label: 'RFC 3339 time', checks: [rfc3339] });
const ip = str({ label: 'IP address', checks: [ipLiteral] });
const absPath = str({ label: 'absolute path', checks: [absolutePath] });
const strings = list(str());
const featureGates = map(bool());
const port = int32(1, 65535);
const quantityT = anyOf('resource quantity', str({ checks: [quantity] }), int64(), float());
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

/** core/v1 Taint. */
const taint = obj('Taint', {
  key: req(str({ nonEmpty: true })),
  value: str(),
  effect: req(oneOfStr(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])),
  timeAdded: time,
});

/** metav1 duration or integer nanoseconds (component-base logs TimeOrMetaDuration). */
const timeOrDuration = anyOf('duration string or integer nanoseconds', duration, int64(0));

/** component-base logs/api/v1 LoggingConfiguration. */
const outputRouting = (name: string) => obj(name, { splitStream: bool(), infoBufferSize: quantityT });
const logging = obj('LoggingConfiguration', {
  format: oneOfStr(['text', 'json']),
  flushFrequency: timeOrDuration,
  verbosity: uint32(),
  vmodule: list(obj('VModuleItem', { filePattern: req(str({ nonEmpty: true })), verbosity: req(uint32()) })),
  options: obj('FormatOptions', { text: outputRouting('TextOptions'), json: outputRouting('JSONOptions') }),
});

// ---------------------------------------------------------------------------------------------
// kubeadm.k8s.io/v1beta4
// ---------------------------------------------------------------------------------------------

/** kubeadm ValidateExtraArgs: v1beta4 structured args (name must be set). */
const arg = obj('Arg', {
  name: req(
    str({
      nonEmpty: true,
      checks: [(v, report) => /^-/.test(v) && report(`flag name "${v}" must be written without leading dashes`)],
    }),
  ),
  value: req(str()),
});
const extraArgs = list(arg, {
  notListHint: 'in kubeadm.k8s.io/v1beta4 extra args are a list of {name, value} items, not a map',
});

/** v1beta4 EnvVar (inlines core/v1 EnvVar). */
const envVar = obj('EnvVar', { name: req(str({ nonEmpty: true })), value: str(), valueFrom: opaque('EnvVarSource') });

const hostPathMount = obj('HostPathMount', {
  name: req(str({ nonEmpty: true })),
  hostPath: req(str({ nonEmpty: true })),
  mountPath: req(str({ nonEmpty: true })),
  readOnly: bool(),
  pathType: oneOfStr(['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice']),
});

const patches = obj('Patches', { directory: absPath });

const timeouts = obj('Timeouts', {
  controlPlaneComponentHealthCheck: duration,
  kubeletHealthCheck: duration,
  kubernetesAPICall: duration,
  etcdAPICall: duration,
  tlsBootstrap: duration,
  discovery: duration,
  upgradeManifests: duration,
});

/** kubeadm ValidateIgnorePreflightErrors: "all" cannot be combined with individual checks. */
const ignorePreflightErrors = list(str({ nonEmpty: true }), {
  checks: [
    (v, report) => {
      const lower = v.filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase());
      if (lower.includes('all') && new Set(lower).size > 1) report('do not list individual checks when "all" is used');
    },
  ],
});

/** bootstraptoken/v1 BootstrapToken (kubeadm ValidateBootstrapTokens). */
const bootstrapTokenT = obj(
  'BootstrapToken',
  {
    token: req(str({ nonEmpty: true, checks: [bootstrapToken] })),
    description: str(),
    ttl: duration,
    expires: time,
    usages: list(oneOfStr(['signing', 'authentication'])),
    groups: list(str({ checks: [bootstrapGroup] })),
  },
  [
    (o, report) => {
      if (o.ttl !== undefined && o.expires !== undefined) report('ttl and expires are mutually exclusive');
      // ValidateTokenGroups: groups only make sense for authentication tokens (usages default to both).
      const usages = o.usages;
      if (Array.isArray(usages) && Array.isArray(o.groups) && o.groups.length > 0 && !usages.includes('authentication')) {
        report('groups cannot be set unless usages includes "authentication"', 'groups');
      }
    },
  ],
);

/** kubeadm ValidateNodeRegistrationOptions. */
const nodeRegistration = obj('NodeRegistrationOptions', {
  name: str({ label: 'node name', checks: [dns1123Subdomain] }),
  criSocket: str({ checks: [unixSocketURL] }),
  taints: list(taint),
  kubeletExtraArgs: extraArgs,
  ignorePreflightErrors,
  imagePullPolicy: oneOfStr(PULL_POLICIES), // ValidateImagePullPolicy
  imagePullSerial: bool(),
});

/** kubeadm ValidateAPIEndpoint: advertiseAddress is an IP literal, bindPort a valid port. */
const apiEndpoint = obj('APIEndpoint', { advertiseAddress: ip, bindPort: port });

const controlPlaneComponentFields = {
  extraArgs,
  extraVolumes: list(hostPathMount),
  extraEnvs: list(envVar),
};

const etcd = obj(
  'Etcd',
  {
    local: obj('LocalEtcd', {
      imageRepository: str({ checks: [imageRepository] }),
      imageTag: str(),
      dataDir: absPath,
      extraArgs,
      extraEnvs: list(envVar),
      serverCertSANs: list(str({ checks: [certSAN] })),
      peerCertSANs: list(str({ checks: [certSAN] })),
    }),
    external: obj(
      'ExternalEtcd',
      {
        endpoints: req(list(str({ nonEmpty: true, checks: [httpURL] }))),
        caFile: absPath,
        certFile: absPath,
        keyFile: absPath,
      },
      [
        // ValidateEtcd: cert/key come as a pair, need the CA, and then the endpoints must be https.
        (o, report) => {
          const has = (k: string) => typeof o[k] === 'string' && o[k] !== '';
          if (has('certFile') !== has('keyFile')) report('certFile and keyFile must be set together');
          if (has('certFile') && has('keyFile') && !has('caFile')) report('certFile and keyFile require caFile');
          if ((has('caFile') || has('certFile') || has('keyFile')) && Array.isArray(o.endpoints)) {
            o.endpoints.forEach((e, i) => {
              if (typeof e === 'string' && e.startsWith('http://')) report('endpoints must use https when TLS files are set', `endpoints[${i}]`);
            });
          }
        },
      ],
    ),
  },
  [(o, report) => o.local !== undefined && o.external !== undefined && report('local and external are mutually exclusive')],
);

/**
 * kubeadm ValidatePodSubnetNodeMask: each pod subnet must hold the per-node mask the controller
 * manager allocates (node-cidr-mask-size-ipv6, default /64; ipv4 default /24), and the difference
 * may be at most constants.PodSubnetNodeMaskMaxDiff (16). Skipped when allocate-node-cidrs=false
 * (ValidateNetworking).
 */
const podSubnetNodeMask: Check<JsonObject> = (o, report) => {
  const pod = field(o, 'networking', 'podSubnet');
  if (typeof pod !== 'string' || pod === '') return;
  const args = field(o, 'controllerManager', 'extraArgs');
  const argValue = (name: string): string | undefined => {
    if (!Array.isArray(args)) return undefined;
    const hits = args.filter((a) => isPlainObject(a) && a.name === name);
    const last = hits[hits.length - 1] as JsonObject | undefined;
    return typeof last?.value === 'string' ? last.value : undefined;
  };
  if (argValue('allocate-node-cidrs') === 'false') return;
  for (const part of pod.split(',')) {
    const c = parseCIDR(part);
    if (!c) continue; // reported by the networking.podSubnet check
    const raw = argValue(c.family === 6 ? 'node-cidr-mask-size-ipv6' : 'node-cidr-mask-size-ipv4');
    const nodeMask = raw === undefined ? (c.family === 6 ? 64 : 24) : Number(raw);
    if (!Number.isInteger(nodeMask)) {
      report(`controllerManager node-cidr-mask-size-ipv${c.family} "${raw}" is not an integer`, 'networking.podSubnet');
    } else if (c.prefix > nodeMask) {
      report(`pod subnet /${c.prefix} is smaller than the per-node subnet /${nodeMask}`, 'networking.podSubnet');
    } else if (nodeMask - c.prefix > 16) {
      report(`pod subnet /${c.prefix} and node mask /${nodeMask} differ by more than 16 bits`, 'networking.podSubnet');
    }
  }
};

const typeMeta = (apiVersion: string, kind: string) => ({
  apiVersion: req(oneOfStr([apiVersion])),
  kind: req(oneOfStr([kind])),
});

const KUBEADM_V1BETA4 = 'kubeadm.k8s.io/v1beta4';

const initConfiguration = obj('InitConfiguration', {
  ...typeMeta(KUBEADM_V1BETA4, 'InitConfiguration'),
  bootstrapTokens: list(bootstrapTokenT),
  dryRun: bool(),
  nodeRegistration,
  localAPIEndpoint: apiEndpoint,
  certificateKey: str({ checks: [certificateKey] }),
  skipPhases: strings,
  patches,
  timeouts,
});

const clusterConfiguration = obj(
  'ClusterConfiguration',
  {
    ...typeMeta(KUBEADM_V1BETA4, 'ClusterConfiguration'),
    etcd,
    networking: obj('Networking', {
      // ValidateIPNetFromString(MinimumAddressesInServiceSubnet=10) + ValidateServiceSubnetSize
      serviceSubnet: str({ checks: [cidrs({ minAddresses: 10, maxHostBits: 20 })] }),
      // ValidateIPNetFromString(MinimumAddressesInPodSubnet=14)
      podSubnet: str({ checks: [cidrs({ minAddresses: 14 })] }),
      dnsDomain: str({ checks: [dns1123Subdomain] }),
    }),
    kubernetesVersion: str({ checks: [kubernetesVersion] }),
    controlPlaneEndpoint: str({ label: 'host:port', checks: [hostPort] }), // ValidateHostPort
    apiServer: obj('APIServer', { ...controlPlaneComponentFields, certSANs: list(str({ checks: [certSAN] })) }),
    controllerManager: obj('ControlPlaneComponent', controlPlaneComponentFields),
    scheduler: obj('ControlPlaneComponent', controlPlaneComponentFields),
    dns: obj('DNS', { imageRepository: str({ checks: [imageRepository] }), imageTag: str(), disabled: bool() }),
    proxy: obj('Proxy', { disabled: bool() }),
    certificatesDir: absPath,
    imageRepository: str({ checks: [imageRepository] }),
    featureGates,
    clusterName: str(),
    // ValidateEncryptionAlgorithm
    encryptionAlgorithm: oneOfStr(['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256', 'ECDSA-P384']),
    certificateValidityPeriod: duration,
    caCertificateValidityPeriod: duration,
  },
  [podSubnetNodeMask],
);

/** kubeadm ValidateDiscovery + ValidateDiscoveryBootstrapToken. */
const discovery = obj(
  'Discovery',
  {
    bootstrapToken: obj(
      'BootstrapTokenDiscovery',
      {
        token: req(str({ nonEmpty: true, checks: [bootstrapToken] })),
        apiServerEndpoint: req(str({ nonEmpty: true, label: 'host:port', checks: [hostPort] })),
        caCertHashes: list(str({ checks: [caCertHash] })),
        unsafeSkipCAVerification: bool(),
      },
      [
        (o, report) => {
          const hashes = Array.isArray(o.caCertHashes) ? o.caCertHashes.length : 0;
          if (hashes === 0 && o.unsafeSkipCAVerification !== true) {
            report('token discovery needs caCertHashes, or unsafeSkipCAVerification: true', 'caCertHashes');
          }
        },
      ],
    ),
    file: obj('FileDiscovery', { kubeConfigPath: req(str({ nonEmpty: true })) }),
    tlsBootstrapToken: str({ checks: [bootstrapToken] }),
  },
  [
    (o, report) => {
      if (o.bootstrapToken === undefined && o.file === undefined) report('one of bootstrapToken or file must be set');
      if (o.bootstrapToken !== undefined && o.file !== undefined) report('bootstrapToken and file are mutually exclusive');
    },
  ],
);

const joinConfiguration = obj('JoinConfiguration', {
  ...typeMeta(KUBEADM_V1BETA4, 'JoinConfiguration'),
  dryRun: bool(),
  nodeRegistration,
  // ValidateJoinConfiguration: absolute path ending in .crt
  caCertPath: str({
    checks: [absolutePath, (v, report) => !v.endsWith('.crt') && report(`"${v}" must end in .crt`)],
  }),
  discovery: req(discovery),
  // ValidateJoinControlPlane
  controlPlane: obj('JoinControlPlane', { localAPIEndpoint: apiEndpoint, certificateKey: str({ checks: [certificateKey] }) }),
  skipPhases: strings,
  patches,
  timeouts,
});

/** ResetConfiguration (ValidateResetConfiguration, ValidateUnmountFlags). */
const resetConfiguration = obj('ResetConfiguration', {
  ...typeMeta(KUBEADM_V1BETA4, 'ResetConfiguration'),
  cleanupTmpDir: bool(),
  certificatesDir: absPath,
  criSocket: str({ checks: [unixSocketURL] }),
  dryRun: bool(),
  force: bool(),
  ignorePreflightErrors,
  skipPhases: strings,
  unmountFlags: list(oneOfStr(['MNT_FORCE', 'MNT_DETACH', 'MNT_EXPIRE', 'UMOUNT_NOFOLLOW'])),
  timeouts,
});

/** UpgradeConfiguration (ValidateUpgradeConfiguration). */
const upgradeConfiguration = obj('UpgradeConfiguration', {
  ...typeMeta(KUBEADM_V1BETA4, 'UpgradeConfiguration'),
  apply: obj('UpgradeApplyConfiguration', {
    kubernetesVersion: str({ checks: [kubernetesVersion] }),
    allowExperimentalUpgrades: bool(),
    allowRCUpgrades: bool(),
    certificateRenewal: bool(),
    dryRun: bool(),
    etcdUpgrade: bool(),
    forceUpgrade: bool(),
    ignorePreflightErrors,
    patches,
    printConfig: bool(),
    skipPhases: strings,
    imagePullPolicy: oneOfStr(PULL_POLICIES),
    imagePullSerial: bool(),
  }),
  diff: obj('UpgradeDiffConfiguration', { kubernetesVersion: str({ checks: [kubernetesVersion] }), contextLines: int64(0) }),
  node: obj('UpgradeNodeConfiguration', {
    certificateRenewal: bool(),
    dryRun: bool(),
    etcdUpgrade: bool(),
    ignorePreflightErrors,
    skipPhases: strings,
    patches,
    imagePullPolicy: oneOfStr(PULL_POLICIES),
    imagePullSerial: bool(),
  }),
  plan: obj('UpgradePlanConfiguration', {
    kubernetesVersion: str({ checks: [kubernetesVersion] }),
    allowExperimentalUpgrades: bool(),
    allowRCUpgrades: bool(),
    dryRun: bool(),
    ignorePreflightErrors,
    printConfig: bool(),
  }),
  timeouts,
});

// ---------------------------------------------------------------------------------------------
// kubelet.config.k8s.io/v1beta1 — KubeletConfiguration (k8s.io/kubelet v0.36.3)
// ---------------------------------------------------------------------------------------------

const EVICTION_SIGNALS = [
  'memory.available',
  'allocatableMemory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'containerfs.available',
  'containerfs.inodesFree',
  'pid.available',
] as const;
const evictionSignal: Check<string> = (k, report) => {
  if (!(EVICTION_SIGNALS as readonly string[]).includes(k)) report(`unknown eviction signal; expected one of ${EVICTION_SIGNALS.join(', ')}`);
};
const evictionThresholds = map(str({ nonEmpty: true, checks: [quantityOrPercent] }), { keyChecks: [evictionSignal] });
/** Node-allocatable reservations (kubelet parseResourceList). */
const reservation = map(str({ nonEmpty: true, checks: [quantity] }), {
  keyChecks: [
    (k, report) =>
      !['cpu', 'memory', 'ephemeral-storage', 'pid'].includes(k) && report('only cpu, memory, ephemeral-storage and pid can be reserved'),
  ],
});

const percent = int32(0, 100);
const nonNegInt32 = int32(0);

const kubeletConfiguration = obj(
  'KubeletConfiguration',
  {
    ...typeMeta('kubelet.config.k8s.io/v1beta1', 'KubeletConfiguration'),
    enableServer: bool(),
    staticPodPath: str(),
    podLogsDir: absPath,
    syncFrequency: duration,
    fileCheckFrequency: duration,
    httpCheckFrequency: duration,
    staticPodURL: str(),
    staticPodURLHeader: map(strings),
    address: ip,
    port,
    readOnlyPort: int32(0, 65535),
    tlsCertFile: str(),
    tlsPrivateKeyFile: str(),
    tlsCipherSuites: strings,
    tlsCurvePreferences: list(int32()),
    tlsMinVersion: oneOfStr(['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13']),
    rotateCertificates: bool(),
    serverTLSBootstrap: bool(),
    authentication: obj('KubeletAuthentication', {
      x509: obj('KubeletX509Authentication', { clientCAFile: str() }),
      webhook: obj('KubeletWebhookAuthentication', { enabled: bool(), cacheTTL: duration }),
      anonymous: obj('KubeletAnonymousAuthentication', { enabled: bool() }),
    }),
    authorization: obj('KubeletAuthorization', {
      mode: oneOfStr(['AlwaysAllow', 'Webhook']),
      webhook: obj('KubeletWebhookAuthorization', { cacheAuthorizedTTL: duration, cacheUnauthorizedTTL: duration }),
    }),
    registryPullQPS: nonNegInt32,
    registryBurst: nonNegInt32,
    imagePullCredentialsVerificationPolicy: oneOfStr([
      'NeverVerify',
      'NeverVerifyPreloadedImages',
      'NeverVerifyAllowlistedImages',
      'AlwaysVerify',
    ]),
    preloadedImagesVerificationAllowlist: strings,
    eventRecordQPS: nonNegInt32,
    eventBurst: nonNegInt32,
    enableDebuggingHandlers: bool(),
    enableContentionProfiling: bool(),
    healthzPort: int32(0, 65535),
    healthzBindAddress: ip, // an IP for the kubelet (not host:port)
    oomScoreAdj: int32(-1000, 1000),
    clusterDomain: str({ checks: [dns1123Subdomain] }),
    clusterDNS: list(ip),
    streamingConnectionIdleTimeout: duration,
    nodeStatusUpdateFrequency: duration,
    nodeStatusReportFrequency: duration,
    nodeLeaseDurationSeconds: nonNegInt32,
    imageMinimumGCAge: duration,
    imageMaximumGCAge: duration,
    imageGCHighThresholdPercent: percent,
    imageGCLowThresholdPercent: percent,
    volumeStatsAggPeriod: duration,
    kubeletCgroups: str(),
    systemCgroups: str(),
    cgroupRoot: str(),
    cgroupsPerQOS: bool(),
    cgroupDriver: oneOfStr(['cgroupfs', 'systemd']),
    cpuManagerPolicy: oneOfStr(['none', 'static']),
    singleProcessOOMKill: bool(),
    cpuManagerPolicyOptions: map(str()),
    cpuManagerReconcilePeriod: duration,
    memoryManagerPolicy: oneOfStr(['None', 'Static']),
    topologyManagerPolicy: oneOfStr(['none', 'best-effort', 'restricted', 'single-numa-node']),
    topologyManagerScope: oneOfStr(['container', 'pod']),
    topologyManagerPolicyOptions: map(str()),
    qosReserved: map(str()),
    runtimeRequestTimeout: duration,
    hairpinMode: oneOfStr(['promiscuous-bridge', 'hairpin-veth', 'none']),
    maxPods: nonNegInt32,
    podCIDR: str({ checks: [singleCIDR] }),
    podPidsLimit: int64(-1),
    resolvConf: str(),
    runOnce: bool(),
    cpuCFSQuota: bool(),
    cpuCFSQuotaPeriod: duration,
    nodeStatusMaxImages: int32(-1),
    maxOpenFiles: int64(0),
    contentType: str(),
    kubeAPIQPS: nonNegInt32,
    kubeAPIBurst: nonNegInt32,
    serializeImagePulls: bool(),
    maxParallelImagePulls: int32(1),
    evictionHard: evictionThresholds,
    evictionSoft: evictionThresholds,
    evictionSoftGracePeriod: map(str({ nonEmpty: true, checks: [goDuration] }), { keyChecks: [evictionSignal] }),
    evictionPressureTransitionPeriod: duration,
    evictionMaxPodGracePeriod: int32(),
    evictionMinimumReclaim: evictionThresholds,
    mergeDefaultEvictionSettings: bool(),
    podsPerCore: nonNegInt32,
    enableControllerAttachDetach: bool(),
    protectKernelDefaults: bool(),
    makeIPTablesUtilChains: bool(),
    iptablesMasqueradeBit: int32(0, 31),
    iptablesDropBit: int32(0, 31),
    featureGates,
    failSwapOn: bool(),
    memorySwap: obj('MemorySwapConfiguration', { swapBehavior: oneOfStr(['', 'NoSwap', 'LimitedSwap']) }),
    containerLogMaxSize: str({ checks: [quantity] }),
    containerLogMaxFiles: int32(2),
    containerLogMaxWorkers: int32(1),
    containerLogMonitorInterval: duration,
    configMapAndSecretChangeDetectionStrategy: oneOfStr(['Get', 'Cache', 'Watch']),
    systemReserved: reservation,
    kubeReserved: reservation,
    reservedSystemCPUs: str(),
    showHiddenMetricsForVersion: str(),
    systemReservedCgroup: str(),
    kubeReservedCgroup: str(),
    enforceNodeAllocatable: list(
      oneOfStr(['none', 'pods', 'system-reserved', 'system-reserved-compressible', 'kube-reserved', 'kube-reserved-compressible']),
    ),
    allowedUnsafeSysctls: strings,
    volumePluginDir: str(),
    providerID: str(),
    kernelMemcgNotification: bool(),
    logging,
    enableSystemLogHandler: bool(),
    enableSystemLogQuery: bool(),
    shutdownGracePeriod: duration,
    shutdownGracePeriodCriticalPods: duration,
    shutdownGracePeriodByPodPriority: list(
      obj('ShutdownGracePeriodByPodPriority', { priority: req(int32()), shutdownGracePeriodSeconds: req(int64(0)) }),
    ),
    crashLoopBackOff: obj('CrashLoopBackOffConfig', { maxContainerRestartPeriod: duration }),
    reservedMemory: list(obj('MemoryReservation', { numaNode: req(int32(0)), limits: req(map(quantityT)) })),
    enableProfilingHandler: bool(),
    enableDebugFlagsHandler: bool(),
    seccompDefault: bool(),
    memoryThrottlingFactor: float([(v, report) => (v <= 0 || v > 1) && report('must be greater than 0 and at most 1.0')]),
    memoryReservationPolicy: oneOfStr(['None', 'TieredReservation']),
    registerWithTaints: list(taint),
    registerNode: bool(),
    tracing: obj('TracingConfiguration', { endpoint: str(), samplingRatePerMillion: int32(0, 1000000) }),
    localStorageCapacityIsolation: bool(),
    containerRuntimeEndpoint: str({ checks: [criEndpoint] }),
    imageServiceEndpoint: str({ checks: [criEndpoint] }),
    failCgroupV1: bool(),
    userNamespaces: obj('UserNamespaces', { idsPerPod: int64(0) }),
  },
  [
    // kubelet ValidateKubeletConfiguration: low GC threshold below the high one.
    (o, report) => {
      const hi = o.imageGCHighThresholdPercent;
      const lo = o.imageGCLowThresholdPercent;
      if (typeof hi === 'number' && typeof lo === 'number' && lo >= hi) {
        report('imageGCLowThresholdPercent must be less than imageGCHighThresholdPercent', 'imageGCLowThresholdPercent');
      }
    },
  ],
);

// ---------------------------------------------------------------------------------------------
// kubeproxy.config.k8s.io/v1alpha1 — KubeProxyConfiguration (k8s.io/kube-proxy v0.36.3)
// ---------------------------------------------------------------------------------------------

/** kube-proxy validateKubeProxyIPTablesConfiguration & co: minSyncPeriod <= syncPeriod. */
const syncPeriods: Check<JsonObject> = (o, report) => {
  const sync = durationAt(o, 'syncPeriod');
  const min = durationAt(o, 'minSyncPeriod');
  if (sync !== undefined && sync <= 0) report('must be greater than 0', 'syncPeriod');
  if (min !== undefined && min < 0) report('must be greater than or equal to 0', 'minSyncPeriod');
  if (sync !== undefined && min !== undefined && min > sync) report('minSyncPeriod must not exceed syncPeriod', 'minSyncPeriod');
};

const kubeProxyConfiguration = obj('KubeProxyConfiguration', {
  ...typeMeta('kubeproxy.config.k8s.io/v1alpha1', 'KubeProxyConfiguration'),
  featureGates,
  clientConnection: obj('ClientConnectionConfiguration', {
    kubeconfig: str(),
    acceptContentTypes: str(),
    contentType: str(),
    qps: float(),
    burst: nonNegInt32, // validateClientConnectionConfiguration
  }),
  logging,
  hostnameOverride: str({ checks: [dns1123Subdomain] }),
  bindAddress: ip,
  healthzBindAddress: str({ label: 'IP:port', checks: [ipPort] }),
  metricsBindAddress: str({ label: 'IP:port', checks: [ipPort] }),
  bindAddressHardFail: bool(),
  enableProfiling: bool(),
  showHiddenMetricsForVersion: str({ checks: [(v, report) => !/^\d+\.\d+$/.test(v) && report(`"${v}" must be "major.minor"`)] }),
  mode: oneOfStr(['', 'iptables', 'ipvs', 'nftables', 'kernelspace']),
  iptables: obj(
    'KubeProxyIPTablesConfiguration',
    { masqueradeBit: int32(0, 31), masqueradeAll: bool(), localhostNodePorts: bool(), syncPeriod: duration, minSyncPeriod: duration },
    [syncPeriods],
  ),
  ipvs: obj(
    'KubeProxyIPVSConfiguration',
    {
      syncPeriod: duration,
      minSyncPeriod: duration,
      scheduler: oneOfStr(['', 'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh']),
      excludeCIDRs: list(str({ checks: [singleCIDR] })),
      strictARP: bool(),
      tcpTimeout: duration,
      tcpFinTimeout: duration,
      udpTimeout: duration,
    },
    [syncPeriods],
  ),
  nftables: obj(
    'KubeProxyNFTablesConfiguration',
    { masqueradeBit: int32(0, 31), masqueradeAll: bool(), syncPeriod: duration, minSyncPeriod: duration },
    [syncPeriods],
  ),
  winkernel: obj('KubeProxyWinkernelConfiguration', {
    networkName: str(),
    sourceVip: str(),
    enableDSR: bool(),
    rootHnsEndpointName: str(),
    forwardHealthCheckVip: bool(),
  }),
  detectLocalMode: oneOfStr(['', 'ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix']),
  detectLocal: obj('DetectLocalConfiguration', { bridgeInterface: str(), interfaceNamePrefix: str() }),
  clusterCIDR: str({ checks: [cidrs({})] }),
  nodePortAddresses: list(
    str({ nonEmpty: true, checks: [(v, report) => v !== 'primary' && !parseCIDR(v) && report(`"${v}" must be a CIDR or "primary"`)] }),
  ),
  oomScoreAdj: int32(-1000, 1000),
  conntrack: obj('KubeProxyConntrackConfiguration', {
    maxPerCore: nonNegInt32,
    min: nonNegInt32,
    tcpEstablishedTimeout: duration,
    tcpCloseWaitTimeout: duration,
    tcpBeLiberal: bool(),
    udpTimeout: duration,
    udpStreamTimeout: duration,
  }),
  configSyncPeriod: duration,
  portRange: str({ checks: [(v, report) => !/^\d+([-+]\d+)?$/.test(v) && report(`"${v}" must be a port range like "30000-32767"`)] }),
  windowsRunAsService: bool(),
});

// ---------------------------------------------------------------------------------------------
// Registry of kinds
// ---------------------------------------------------------------------------------------------

const SCHEMAS: Readonly<Record<string, Readonly<Record<string, ObjT>>>> = {
  'kubeadm.k8s.io/v1beta4': {
    InitConfiguration: initConfiguration,
    ClusterConfiguration: clusterConfiguration,
    JoinConfiguration: joinConfiguration,
    ResetConfiguration: resetConfiguration,
    UpgradeConfiguration: upgradeConfiguration,
  },
  'kubelet.config.k8s.io/v1beta1': { KubeletConfiguration: kubeletConfiguration },
  'kubeproxy.config.k8s.io/v1alpha1': { KubeProxyConfiguration: kubeProxyConfiguration },
};

/** Known but unusable apiVersions, with the reason reported. */
const RETIRED_API_VERSIONS: Readonly<Record<string, string>> = {
  'kubeadm.k8s.io/v1beta3': 'kubeadm.k8s.io/v1beta3 is deprecated; write kubeadm.k8s.io/v1beta4 (extraArgs become lists of {name, value})',
  'kubeadm.k8s.io/v1beta2': 'kubeadm.k8s.io/v1beta2 is no longer supported (removed in kubeadm v1.27); use kubeadm.k8s.io/v1beta4',
  'kubeadm.k8s.io/v1beta1': 'kubeadm.k8s.io/v1beta1 is no longer supported; use kubeadm.k8s.io/v1beta4',
  'kubeadm.k8s.io/v1alpha3': 'kubeadm.k8s.io/v1alpha3 is no longer supported; use kubeadm.k8s.io/v1beta4',
};

/** Fields that moved between API versions, reported with a pointer to their new home. */
const MOVED_FIELDS: Readonly<Record<string, string>> = {
  'APIServer.timeoutForControlPlane':
    'timeoutForControlPlane was removed in v1beta4; use timeouts.controlPlaneComponentHealthCheck in InitConfiguration/JoinConfiguration',
};

/** For "misplaced field" hints: every field name in a kind's tree → the paths where it is valid. */
const FIELD_INDEX = new Map<ObjT, Map<string, string[]>>();
function indexFields(root: ObjT): Map<string, string[]> {
  let idx = FIELD_INDEX.get(root);
  if (idx) return idx;
  const built = new Map<string, string[]>();
  const visit = (t: TypeDesc, path: string, depth: number): void => {
    if (depth > 8) return;
    if (t.t === 'object') {
      for (const [k, sub] of Object.entries(t.fields)) {
        const p = path ? `${path}.${k}` : k;
        built.set(k, [...(built.get(k) ?? []), p]);
        visit(sub, p, depth + 1);
      }
    } else if (t.t === 'list') visit(t.item, `${path}[]`, depth + 1);
    else if (t.t === 'map') visit(t.value, `${path}[*]`, depth + 1);
  };
  visit(root, '', 0);
  FIELD_INDEX.set(root, built);
  return built;
}

// ---------------------------------------------------------------------------------------------
// The walker
// ---------------------------------------------------------------------------------------------

interface Ctx {
  out: SchemaIssue[];
  root: ObjT;
  /** Path of the root object inside the document tree, relative paths are computed from it. */
  rootPath: string;
}

function describe(t: TypeDesc): string {
  switch (t.t) {
    case 'string':
      return t.label ?? 'string';
    case 'bool':
      return 'boolean';
    case 'int':
      return t.label;
    case 'float':
      return t.label;
    case 'list':
      return `list of ${describe(t.item)}`;
    case 'map':
      return `map of ${describe(t.value)}`;
    case 'object':
      return `${t.name} object`;
    case 'anyOf':
      return t.label;
    case 'opaque':
      return t.label;
  }
}

function matchesJsonType(t: TypeDesc, v: unknown): boolean {
  switch (t.t) {
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'float':
      return typeof v === 'number';
    case 'list':
      return Array.isArray(v);
    case 'map':
    case 'object':
    case 'opaque':
      return isPlainObject(v);
    case 'anyOf':
      return t.options.some((o) => matchesJsonType(o, v));
  }
}

function joinPath(base: string, sub: string): string {
  if (!sub) return base;
  return sub.startsWith('[') ? `${base}${sub}` : `${base}.${sub}`;
}

function reporter(ctx: Ctx, path: string): Report {
  return (message, sub) => ctx.out.push({ path: joinPath(path, sub ?? ''), message });
}

function walk(t: TypeDesc, v: unknown, path: string, ctx: Ctx): void {
  const report = reporter(ctx, path);
  if (v === null) {
    // flat6: Go would decode null as the zero value, which hides rendering bugs; omit the field.
    report(`null is not allowed (expected ${describe(t)}); omit the field instead`);
    return;
  }
  if (!matchesJsonType(t, v)) {
    const hint = t.t === 'list' && t.notListHint ? `; ${t.notListHint}` : '';
    report(`expected ${describe(t)}, got ${jsonType(v)}${hint}`);
    return;
  }
  switch (t.t) {
    case 'string': {
      const s = v as string;
      if (s === '') {
        if (t.nonEmpty) report('must not be empty');
        return;
      }
      if (t.enum && !t.enum.includes(s)) {
        report(`"${s}" is not one of ${t.enum.filter((e) => e !== '').map((e) => `"${e}"`).join(', ')}`);
        return;
      }
      for (const c of t.checks ?? []) c(s, report);
      return;
    }
    case 'int': {
      const n = v as number;
      if (n < t.min || n > t.max) report(`${n} is out of range, expected ${describe(t)}`);
      return;
    }
    case 'float':
      for (const c of t.checks ?? []) c(v as number, report);
      return;
    case 'bool':
    case 'opaque':
      return;
    case 'anyOf': {
      const opt = t.options.find((o) => matchesJsonType(o, v))!;
      walk(opt, v, path, ctx);
      return;
    }
    case 'list': {
      const arr = v as unknown[];
      arr.forEach((item, i) => walk(t.item, item, `${path}[${i}]`, ctx));
      for (const c of t.checks ?? []) c(arr, report);
      return;
    }
    case 'map': {
      for (const [k, val] of Object.entries(v as JsonObject)) {
        const p = `${path}[${JSON.stringify(k)}]`;
        for (const c of t.keyChecks ?? []) c(k, reporter(ctx, p));
        walk(t.value, val, p, ctx);
      }
      return;
    }
    case 'object': {
      const o = v as JsonObject;
      for (const [k, val] of Object.entries(o)) {
        const sub = t.fields[k];
        if (sub) walk(sub, val, `${path}.${k}`, ctx);
        else report(unknownFieldMessage(t, k, ctx), k);
      }
      for (const [k, sub] of Object.entries(t.fields)) {
        if (sub.required && !(k in o)) report(`required field "${k}" is missing`, k);
      }
      for (const c of t.checks ?? []) c(o, report);
      return;
    }
  }
}

function unknownFieldMessage(t: ObjT, key: string, ctx: Ctx): string {
  const base = `unknown field "${key}" in ${t.name}`;
  const moved = MOVED_FIELDS[`${t.name}.${key}`];
  if (moved) return `${base}: ${moved}`;
  const lower = key.toLowerCase();
  const near = Object.keys(t.fields)
    .map((f) => ({ f, d: editDistance(lower, f.toLowerCase()) }))
    .filter(({ f, d }) => d <= Math.max(1, Math.min(3, Math.floor(f.length / 4))))
    .sort((a, b) => a.d - b.d);
  if (near.length > 0) return `${base}; did you mean "${near[0]!.f}"?`;
  const elsewhere = indexFields(ctx.root).get(key);
  if (elsewhere && elsewhere.length > 0) {
    return `${base}; "${key}" belongs at ${elsewhere.map((p) => `${ctx.rootPath}.${p}`).join(' or ')}`;
  }
  return base;
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

interface Identified {
  issues: SchemaIssue[];
  /** Kind name, when the document names one. */
  kind?: string;
  /** Path prefix used for this document's issues. */
  label: string;
  schema?: ObjT;
}

function identify(doc: unknown, fallbackLabel: string): Identified {
  if (!isPlainObject(doc)) {
    return { label: fallbackLabel, issues: [{ path: fallbackLabel, message: `expected a mapping document, got ${jsonType(doc)}` }] };
  }
  const kind = typeof doc.kind === 'string' && doc.kind !== '' ? doc.kind : undefined;
  const label = kind ?? fallbackLabel;
  const issues: SchemaIssue[] = [];
  const apiVersion = doc.apiVersion;
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    issues.push({ path: `${label}.apiVersion`, message: 'apiVersion is required (a string such as "kubeadm.k8s.io/v1beta4")' });
  }
  if (kind === undefined) {
    issues.push({ path: `${label}.kind`, message: 'kind is required (a non-empty string)' });
  }
  if (issues.length > 0 || typeof apiVersion !== 'string' || kind === undefined) return { label, kind, issues };

  const retired = RETIRED_API_VERSIONS[apiVersion];
  if (retired) return { label, kind, issues: [{ path: `${label}.apiVersion`, message: retired }] };

  const group = SCHEMAS[apiVersion];
  if (!group) {
    const owners = Object.entries(SCHEMAS)
      .filter(([, kinds]) => kind in kinds)
      .map(([v]) => v);
    const hint = owners.length > 0 ? `; ${kind} is served as ${owners.join(', ')}` : '';
    return { label, kind, issues: [{ path: `${label}.apiVersion`, message: `unknown apiVersion "${apiVersion}"${hint}` }] };
  }
  const schema = group[kind];
  if (!schema) {
    const lower = kind.toLowerCase();
    const owner = Object.entries(SCHEMAS).find(([, kinds]) => kind in kinds)?.[0];
    const near = Object.keys(group).find((k) => k.toLowerCase().startsWith(lower) || editDistance(k.toLowerCase(), lower) <= 3);
    const hint = owner
      ? `; ${kind} belongs to apiVersion ${owner}`
      : near
        ? `; did you mean "${near}"?`
        : `; expected one of ${Object.keys(group).join(', ')}`;
    return { label, kind, issues: [{ path: `${label}.kind`, message: `unknown kind "${kind}" for ${apiVersion}${hint}` }] };
  }
  return { label, kind, issues, schema };
}

function validateIdentified(id: Identified, doc: unknown): SchemaIssue[] {
  if (!id.schema) return id.issues;
  const ctx: Ctx = { out: [...id.issues], root: id.schema, rootPath: id.label };
  walk(id.schema, doc, id.label, ctx);
  return ctx.out;
}

/**
 * Validates one Kubernetes config document (already parsed from YAML/JSON). Dispatches on
 * apiVersion + kind; an unknown, deprecated or missing apiVersion/kind is an issue. Issue paths
 * start with the kind, e.g. "ClusterConfiguration.networking.podSubnet".
 */
export function validateKubeDocument(doc: unknown): SchemaIssue[] {
  const id = identify(doc, '(document)');
  return validateIdentified(id, doc);
}

const INIT_KINDS = ['InitConfiguration', 'ClusterConfiguration'];
const COMPONENT_KINDS = ['KubeletConfiguration', 'KubeProxyConfiguration'];

/**
 * Validates a multi-document kubeadm config file: every document, plus the rules that tie them
 * together — at most one document per kind (kubeadm SplitConfigDocuments), and the file is one of
 *   init:    InitConfiguration + ClusterConfiguration (+ KubeletConfiguration, KubeProxyConfiguration)
 *   join:    JoinConfiguration alone
 *   reset:   ResetConfiguration alone
 *   upgrade: UpgradeConfiguration alone
 * For init files the flat6 consistency rules also apply: kube-proxy clusterCIDR equals
 * networking.podSubnet, kubelet clusterDNS lies inside networking.serviceSubnet and kubelet
 * clusterDomain equals networking.dnsDomain.
 */
export function validateKubeadmFile(docs: unknown[]): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  if (!Array.isArray(docs) || docs.length === 0) {
    return [{ path: '(file)', message: 'a kubeadm config file needs at least one document' }];
  }
  const byKind = new Map<string, { index: number; doc: JsonObject }>();
  docs.forEach((doc, index) => {
    const id = identify(doc, `documents[${index}]`);
    out.push(...validateIdentified(id, doc));
    if (id.kind === undefined || !isPlainObject(doc)) return;
    const prior = byKind.get(id.kind);
    if (prior) {
      out.push({ path: id.kind, message: `kind ${id.kind} is specified twice in the file (documents ${prior.index} and ${index})` });
    } else {
      byKind.set(id.kind, { index, doc });
    }
  });

  const kinds = [...byKind.keys()];
  const has = (k: string) => byKind.has(k);
  const file = (message: string, path = '(file)') => out.push({ path, message });

  if (has('JoinConfiguration')) {
    for (const k of kinds) {
      if (k === 'JoinConfiguration') continue;
      file(
        INIT_KINDS.includes(k)
          ? `${k} cannot be combined with JoinConfiguration in one file: a file is either for "kubeadm init" or for "kubeadm join"`
          : `${k} cannot accompany JoinConfiguration; a join file holds the JoinConfiguration alone`,
        k,
      );
    }
  } else if (has('ResetConfiguration') || has('UpgradeConfiguration')) {
    const main = has('ResetConfiguration') ? 'ResetConfiguration' : 'UpgradeConfiguration';
    for (const k of kinds) if (k !== main) file(`${k} cannot accompany ${main}; that file holds the ${main} alone`, k);
  } else {
    for (const k of INIT_KINDS) {
      if (!has(k)) {
        file(`missing ${k}: an init file holds InitConfiguration and ClusterConfiguration together`, k);
      }
    }
    for (const k of kinds) {
      if (![...INIT_KINDS, ...COMPONENT_KINDS].includes(k)) file(`${k} does not belong in a kubeadm init file`, k);
    }
    crossCheckInit(byKind, out);
  }
  return out;
}

function crossCheckInit(byKind: Map<string, { doc: JsonObject }>, out: SchemaIssue[]): void {
  const cluster = byKind.get('ClusterConfiguration')?.doc;
  if (!cluster) return;
  const podSubnet = field(cluster, 'networking', 'podSubnet');
  const serviceSubnet = field(cluster, 'networking', 'serviceSubnet');
  const dnsDomain = field(cluster, 'networking', 'dnsDomain');

  const proxy = byKind.get('KubeProxyConfiguration')?.doc;
  const clusterCIDR = proxy?.clusterCIDR;
  if (typeof clusterCIDR === 'string' && clusterCIDR !== '' && typeof podSubnet === 'string' && podSubnet !== '') {
    const norm = (s: string) =>
      s
        .split(',')
        .map((c) => parseCIDR(c))
        .map((c) => (c ? `${c.family}/${c.network}/${c.prefix}` : '?'))
        .sort()
        .join(',');
    if (norm(clusterCIDR) !== norm(podSubnet)) {
      out.push({
        path: 'KubeProxyConfiguration.clusterCIDR',
        message: `clusterCIDR "${clusterCIDR}" differs from ClusterConfiguration.networking.podSubnet "${podSubnet}" (flat6 consistency)`,
      });
    }
  }

  const kubelet = byKind.get('KubeletConfiguration')?.doc;
  if (!kubelet) return;
  if (Array.isArray(kubelet.clusterDNS) && typeof serviceSubnet === 'string' && serviceSubnet !== '') {
    const nets = serviceSubnet.split(',').map(parseCIDR);
    if (nets.every((n) => n !== undefined)) {
      kubelet.clusterDNS.forEach((d, i) => {
        const addr = typeof d === 'string' ? parseIP(d) : undefined;
        if (addr && !nets.some((n) => cidrContains(n!, addr))) {
          out.push({
            path: `KubeletConfiguration.clusterDNS[${i}]`,
            message: `${d} is outside ClusterConfiguration.networking.serviceSubnet "${serviceSubnet}" (flat6 consistency)`,
          });
        }
      });
    }
  }
  const clusterDomain = kubelet.clusterDomain;
  if (typeof clusterDomain === 'string' && clusterDomain !== '' && typeof dnsDomain === 'string' && dnsDomain !== '' && clusterDomain !== dnsDomain) {
    out.push({
      path: 'KubeletConfiguration.clusterDomain',
      message: `clusterDomain "${clusterDomain}" differs from ClusterConfiguration.networking.dnsDomain "${dnsDomain}" (flat6 consistency)`,
    });
  }
}
