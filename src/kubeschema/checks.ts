/** Named semantic checks on string values. Each cites the upstream function it follows. */
import type { IpPrefix } from '../core/ip.js';
import type { Check, Report } from './dsl.js';
import { cidrOf, familyBits, ipOf, isDNS1123Subdomain, parseGoDuration, splitHostPort } from './values.js';

/** kubeadm ValidateIPFromString / kubelet & kube-proxy "must be a valid IP": a literal, no brackets. */
export const ipLiteral: Check<string> = (v, report) => {
  if (ipOf(v)) return;
  if (/^\[.*\]$/.test(v) && ipOf(v.slice(1, -1))) report('must be a bare IP literal, without brackets', undefined, `write "${v.slice(1, -1)}"`);
  else report(`"${v}" is not a valid IP address`);
};

/** The bracketed spelling of an "addr:port" whose addr is an unbracketed IPv6 literal, or of a bare IPv6 address. */
function hostPortHint(v: string): string | undefined {
  if (ipOf(v)?.family === 6) return `add the port in brackets form, e.g. "[${v}]:443"`;
  const colon = v.lastIndexOf(':');
  const host = v.slice(0, colon);
  if (colon > 0 && ipOf(host)?.family === 6) return `write "[${host}]:${v.slice(colon + 1)}"`;
  return undefined;
}

export function portCheck(port: string, report: Report): void {
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
export const hostPort: Check<string> = (v, report) => {
  const hp = splitHostPort(v);
  if (typeof hp === 'string') { report(`"${v}" is not host:port: ${hp}`, undefined, hostPortHint(v)); return; }
  portCheck(hp.port, report);
  if (hp.bracketed) {
    if (ipOf(hp.host)?.family !== 6) report(`"${hp.host}" in brackets must be an IPv6 address`);
  } else if (!ipOf(hp.host) && !isDNS1123Subdomain(hp.host)) {
    report(`host "${hp.host}" must be a valid IP address or a lowercase RFC 1123 DNS subdomain`);
  }
};

/** IP:port, IPv6 bracketed. kube-proxy validation validateHostPort (healthz / metrics bind addresses). */
export const ipPort: Check<string> = (v, report) => {
  const hp = splitHostPort(v);
  if (typeof hp === 'string') { report(`"${v}" is not IP:port: ${hp}`, undefined, hostPortHint(v)); return; }
  portCheck(hp.port, report);
  if (!ipOf(hp.host)) report(`host "${hp.host}" must be an IP address`);
};

/** apimachinery validation.IsDNS1123Subdomain (kubeadm ValidateNodeRegistrationOptions, ValidateNetworking dnsDomain). */
export const dns1123Subdomain: Check<string> = (v, report) => {
  if (!isDNS1123Subdomain(v)) {
    report(`"${v}" must be a lowercase RFC 1123 subdomain (a-z, 0-9, "-", ".", at most 253 characters)`);
  }
};

/** kubeadm ValidateCertSANs: DNS subdomain, wildcard DNS subdomain, or IP. */
export const certSAN: Check<string> = (v, report) => {
  const dns = v.startsWith('*.') ? v.slice(2) : v;
  if (!isDNS1123Subdomain(dns) && !ipOf(v)) {
    report(`"${v}" is not a valid IP address, DNS name or wildcard DNS name`);
  }
};

/** bootstraputil.IsValidBootstrapToken (kubeadm ValidateToken). */
export const bootstrapToken: Check<string> = (v, report) => {
  if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(v)) report('bootstrap token must match ^[a-z0-9]{6}\\.[a-z0-9]{16}$');
};

/** bootstraputil.ValidateBootstrapGroupName (kubeadm ValidateTokenGroups). */
export const bootstrapGroup: Check<string> = (v, report) => {
  if (!/^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(v)) {
    report(`group "${v}" must match ^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`);
  }
};

/** kubeadm ValidateCertificateKey: hex encoded AES key of constants.CertificateKeySize (32) bytes. */
export const certificateKey: Check<string> = (v, report) => {
  if (!/^[0-9a-fA-F]*$/.test(v) || v.length % 2 !== 0) report('certificate key must be hex encoded');
  else if (v.length !== 64) report(`certificate key is ${v.length / 2} bytes, it must be a 32-byte AES key (64 hex characters)`);
};

/** kubeadm pubkeypin (ValidateDiscoveryBootstrapToken): "sha256:" + hex SHA-256 of the CA's SPKI. */
export const caCertHash: Check<string> = (v, report) => {
  if (!/^sha256:[0-9a-fA-F]{64}$/.test(v)) report(`"${v}" must be "sha256:" followed by 64 hex characters`);
};

/** ClusterConfiguration.kubernetesVersion. flat6: an explicit release, not a label like "stable-1". */
export const kubernetesVersion: Check<string> = (v, report) => {
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(v)) {
    report(`"${v}" must look like vX.Y.Z (e.g. "v1.36.3")`);
  }
};

/** kubeadm ValidateAbsolutePath. */
export const absolutePath: Check<string> = (v, report) => {
  if (!v.startsWith('/')) report(`"${v}" must be an absolute path`);
};

/** kubeadm ValidateSocketPath: a URL with the "unix" scheme (kubeadmapiv1.DefaultContainerRuntimeURLScheme). */
export const unixSocketURL: Check<string> = (v, report) => {
  if (!/^unix:\/\/\/.+/.test(v)) report(`"${v}" must be a unix socket URL, e.g. "unix:///run/containerd/containerd.sock"`);
};

/** kubelet containerRuntimeEndpoint / imageServiceEndpoint: unix:// (Linux) or npipe:// (Windows). */
export const criEndpoint: Check<string> = (v, report) => {
  if (!/^(unix:\/\/\/.+|npipe:\/\/.+)$/.test(v)) report(`"${v}" must be a unix:// (or npipe://) endpoint URL`);
};

/** kubeadm ValidateImageRepository: "<repo>/name:tag" must be a valid image reference. */
export const imageRepository: Check<string> = (v, report) => {
  const host = '(\\[[0-9a-fA-F:.]+\\]|[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(:\\d+)?';
  const comp = '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*';
  if (!new RegExp(`^(${host}/)?${comp}(/${comp})*$`).test(v)) report(`"${v}" is not a valid image repository`);
};

/** metav1.Duration wire format (Go time.ParseDuration). */
export const goDuration: Check<string> = (v, report) => {
  if (parseGoDuration(v) === undefined) report(`"${v}" is not a Go duration (e.g. "30s", "5m", "1h30m")`);
};

/** metav1.Time wire format (RFC 3339). */
export const rfc3339: Check<string> = (v, report) => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) report(`"${v}" is not an RFC 3339 timestamp`);
};

/** resource.Quantity string form. */
const QUANTITY_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
export const quantity: Check<string> = (v, report) => {
  if (!QUANTITY_RE.test(v)) report(`"${v}" is not a resource quantity (e.g. "100m", "256Mi")`);
};

/** Kubelet eviction thresholds: a quantity or a percentage (kubelet eviction ParseThresholdConfig). */
export const quantityOrPercent: Check<string> = (v, report) => {
  const pct = /^(\d+(\.\d+)?)%$/.exec(v);
  if (pct) {
    if (Number(pct[1]) > 100) report(`percentage "${v}" must be between 0% and 100%`);
  } else if (!QUANTITY_RE.test(v)) report(`"${v}" must be a quantity (e.g. "100Mi") or a percentage (e.g. "10%")`);
};

/** URL with http/https scheme (kubeadm ValidateURLs for external etcd endpoints). */
export const httpURL: Check<string> = (v, report) => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    report(`"${v}" is not a valid URL`); return;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') report(`"${v}" must use the http or https scheme`);
};

/**
 * Comma-separated CIDR list, one per family (kubeadm ValidateIPNetFromString), optionally with the
 * service-subnet size cap (ValidateServiceSubnetSize: at most constants.MaximumBitsForServiceSubnet
 * = 20 host bits, i.e. IPv6 mask >= /108, IPv4 mask >= /12).
 */
export function cidrs(o: { minAddresses?: number; maxHostBits?: number }): Check<string> {
  return (v, report) => {
    const parts = v.split(',');
    const parsed: IpPrefix[] = [];
    for (const p of parts) {
      const c = cidrOf(p);
      if (!c) { report(`"${p}" is not a valid CIDR`); return; }
      parsed.push(c);
    }
    if (parsed.length > 2 || (parsed.length === 2 && parsed[0].family === parsed[1].family)) {
      report('expected one CIDR, or two CIDRs of different IP families for dual-stack');
    }
    for (const c of parsed) {
      const bits = familyBits(c.family);
      const hostBits = bits - c.length;
      if (o.minAddresses !== undefined && 2 ** hostBits < o.minAddresses) {
        report(`subnet /${c.length} is too small, the minimum is ${o.minAddresses} addresses`);
      }
      if (o.maxHostBits !== undefined && hostBits > o.maxHostBits) {
        report(`subnet /${c.length} is too large; for ${bits}-bit addresses the mask must be >= /${bits - o.maxHostBits}`);
      }
    }
  };
}
export const singleCIDR: Check<string> = (v, report) => {
  if (!cidrOf(v)) report(`"${v}" is not a valid CIDR`);
};
