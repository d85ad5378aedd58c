/**
 * Configuration of Kubernetes' own components, as kubeadm writes it (and as it
 * is stored in the kube-proxy, kubelet-config and kubeadm-config ConfigMaps):
 * KubeProxyConfiguration, KubeletConfiguration, ClusterConfiguration,
 * InitConfiguration and JoinConfiguration.
 *
 * The unspecified address 0.0.0.0 means different things to different
 * components, and the rules follow each one's documentation: kube-proxy's
 * bindAddress, healthzBindAddress and metricsBindAddress document 0.0.0.0 as
 * "all IPv4 interfaces" (and :: for IPv6); the kubelet, kube-apiserver,
 * kube-controller-manager and kube-scheduler listen with Go's "tcp" network,
 * on which 0.0.0.0 accepts both families, so only IPv4 literals are reported
 * for them. IPv4 loopback (kubeadm's default for the scheduler and
 * controller-manager) stays: every Linux host keeps 127.0.0.1.
 */
import { cidrFamilyOf, hostFamilyOf } from '../ipv4.js';
import { arr, isRecord, scalarText, str, type KubeObject, type PathPart, type RawFinding } from '../types.js';

export const COMPONENT_KINDS: Record<string, string> = {
  KubeProxyConfiguration: 'kubeproxy.config.k8s.io/',
  KubeletConfiguration: 'kubelet.config.k8s.io/',
  ClusterConfiguration: 'kubeadm.k8s.io/',
  InitConfiguration: 'kubeadm.k8s.io/',
  JoinConfiguration: 'kubeadm.k8s.io/',
};

export function isComponentConfig(obj: KubeObject): boolean {
  const kind = str(obj['kind']);
  const group = kind ? COMPONENT_KINDS[kind] : undefined;
  return !!group && (str(obj['apiVersion']) ?? '').startsWith(group);
}

type Use = 'bind' | 'aux' | 'endpoint';

interface AddressCheck {
  /**
   * How 0.0.0.0 is read: 'ipv4' when the component documents it as all IPv4
   * interfaces (kube-proxy), 'invalid' where it is no address to reach or
   * advertise, 'all' where the component listens on both families (Go "tcp").
   */
  wildcard: 'ipv4' | 'invalid' | 'all';
  use: Use;
}

function address(out: RawFinding[], path: PathPart[], value: unknown, what: string, check: AddressCheck): void {
  const h = hostFamilyOf(value);
  if (!h || h.family !== 4) return;
  if (h.host.startsWith('127.')) return;
  const wildcard = h.host === '0.0.0.0';
  if (wildcard && check.wildcard === 'all') return;
  const v = JSON.stringify(value);
  if (check.use === 'aux') {
    out.push({ code: 'COMPONENT_IPV4_AUX_BIND', path, message: `${what} is ${v}: ${wildcard ? 'kube-proxy documents 0.0.0.0 as all IPv4 interfaces' : 'an IPv4 address'}, so it cannot be reached over IPv6` });
    return;
  }
  if (wildcard && check.wildcard === 'ipv4') {
    // kube-proxy no longer binds a socket to bindAddress (it names the node's
    // primary IP), so 0.0.0.0 there degrades rather than breaks: a warning.
    out.push({
      code: 'COMPONENT_IPV4_BIND',
      path,
      severity: 'warning',
      message: `${what} is ${v}, which kube-proxy documents as all IPv4 interfaces ("::" for IPv6); kubeadm writes "::" on IPv6 clusters`,
    });
    return;
  }
  out.push({
    code: 'COMPONENT_IPV4_BIND',
    path,
    message:
      check.use === 'endpoint'
        ? `${what} is ${v}, an IPv4 address: nodes of an IPv6-only cluster cannot reach it`
        : `${what} is ${v}, an IPv4 address: the component listens or advertises on IPv4`,
  });
}

function cidrs(out: RawFinding[], path: PathPart[], value: unknown, what: string): void {
  const text = str(value);
  if (!text) return;
  const v4 = text.split(',').map((s) => s.trim()).filter((s) => cidrFamilyOf(s) === 4);
  if (!v4.length) return;
  out.push({ code: 'COMPONENT_IPV4_CIDR', path, message: `${what} holds the IPv4 range(s) ${v4.map((s) => JSON.stringify(s)).join(', ')}` });
}

/** Flags in kubeadm extraArgs / kubeletExtraArgs (v1beta4: [{name, value}], v1beta3: {name: value}). */
const ARG_ADDRESS = new Set(['bind-address', 'advertise-address', 'node-ip', 'address']);
const ARG_URLS = new Set(['listen-client-urls', 'listen-peer-urls', 'advertise-client-urls', 'initial-advertise-peer-urls', 'listen-metrics-urls']);
const ARG_CIDR = new Set(['cluster-cidr', 'service-cluster-ip-range', 'pod-cidr']);

function extraArgs(out: RawFinding[], base: PathPart[], value: unknown): void {
  const pairs: Array<{ name: string; value: unknown; path: PathPart[] }> = [];
  if (Array.isArray(value)) {
    value.forEach((a, i) => {
      if (isRecord(a) && typeof a['name'] === 'string') pairs.push({ name: a['name'], value: a['value'], path: [...base, i, 'value'] });
    });
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) pairs.push({ name: k, value: v, path: [...base, k] });
  }
  for (const p of pairs) {
    const what = `--${p.name}`;
    if (ARG_ADDRESS.has(p.name)) {
      for (const part of scalarText(p.value).split(',')) address(out, p.path, part.trim(), what, { wildcard: 'all', use: 'bind' });
    } else if (ARG_URLS.has(p.name)) {
      for (const part of scalarText(p.value).split(',')) address(out, p.path, part.trim(), what, { wildcard: 'all', use: 'bind' });
    } else if (ARG_CIDR.has(p.name)) cidrs(out, p.path, p.value, what);
  }
}

function kubeadmNode(out: RawFinding[], obj: KubeObject, base: PathPart[]): void {
  const nr = obj['nodeRegistration'];
  if (isRecord(nr)) extraArgs(out, [...base, 'nodeRegistration', 'kubeletExtraArgs'], nr['kubeletExtraArgs']);
}

/** Findings for one component configuration object; `base` prefixes every path (embedded configs). */
export function componentRules(obj: KubeObject, base: PathPart[] = []): RawFinding[] {
  const out: RawFinding[] = [];
  const kind = str(obj['kind']);
  const at = (...p: PathPart[]): PathPart[] => [...base, ...p];
  switch (kind) {
    case 'KubeProxyConfiguration':
      address(out, at('bindAddress'), obj['bindAddress'], 'kube-proxy bindAddress', { wildcard: 'ipv4', use: 'bind' });
      address(out, at('healthzBindAddress'), obj['healthzBindAddress'], 'kube-proxy healthzBindAddress', { wildcard: 'ipv4', use: 'aux' });
      address(out, at('metricsBindAddress'), obj['metricsBindAddress'], 'kube-proxy metricsBindAddress', { wildcard: 'ipv4', use: 'aux' });
      cidrs(out, at('clusterCIDR'), obj['clusterCIDR'], 'kube-proxy clusterCIDR');
      break;
    case 'KubeletConfiguration':
      address(out, at('address'), obj['address'], 'kubelet address', { wildcard: 'all', use: 'bind' });
      address(out, at('healthzBindAddress'), obj['healthzBindAddress'], 'kubelet healthzBindAddress', { wildcard: 'all', use: 'aux' });
      arr(obj['clusterDNS']).forEach((d, i) => {
        if (hostFamilyOf(d)?.family === 4) {
          out.push({ code: 'COMPONENT_IPV4_CLUSTER_DNS', path: at('clusterDNS', i), message: `kubelet clusterDNS ${JSON.stringify(d)} is IPv4: every pod's resolv.conf would name a resolver it cannot reach` });
        }
      });
      cidrs(out, at('podCIDR'), obj['podCIDR'], 'kubelet podCIDR');
      break;
    case 'ClusterConfiguration': {
      address(out, at('controlPlaneEndpoint'), obj['controlPlaneEndpoint'], 'controlPlaneEndpoint', { wildcard: 'invalid', use: 'endpoint' });
      const net = obj['networking'];
      if (isRecord(net)) {
        cidrs(out, at('networking', 'podSubnet'), net['podSubnet'], 'networking.podSubnet');
        cidrs(out, at('networking', 'serviceSubnet'), net['serviceSubnet'], 'networking.serviceSubnet');
      }
      for (const c of ['apiServer', 'controllerManager', 'scheduler']) {
        const comp = obj[c];
        if (isRecord(comp)) extraArgs(out, at(c, 'extraArgs'), comp['extraArgs']);
      }
      const etcd = obj['etcd'];
      if (isRecord(etcd) && isRecord(etcd['local'])) extraArgs(out, at('etcd', 'local', 'extraArgs'), etcd['local']['extraArgs']);
      break;
    }
    case 'InitConfiguration': {
      const ep = obj['localAPIEndpoint'];
      if (isRecord(ep)) address(out, at('localAPIEndpoint', 'advertiseAddress'), ep['advertiseAddress'], 'localAPIEndpoint.advertiseAddress', { wildcard: 'invalid', use: 'bind' });
      kubeadmNode(out, obj, base);
      break;
    }
    case 'JoinConfiguration': {
      const cp = obj['controlPlane'];
      if (isRecord(cp) && isRecord(cp['localAPIEndpoint'])) {
        address(out, at('controlPlane', 'localAPIEndpoint', 'advertiseAddress'), cp['localAPIEndpoint']['advertiseAddress'], 'controlPlane.localAPIEndpoint.advertiseAddress', { wildcard: 'invalid', use: 'bind' });
      }
      const d = obj['discovery'];
      if (isRecord(d) && isRecord(d['bootstrapToken'])) {
        address(out, at('discovery', 'bootstrapToken', 'apiServerEndpoint'), d['bootstrapToken']['apiServerEndpoint'], 'discovery.bootstrapToken.apiServerEndpoint', { wildcard: 'invalid', use: 'endpoint' });
      }
      kubeadmNode(out, obj, base);
      break;
    }
  }
  return out;
}
