/**
 * kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration (k8s.io/kube-proxy v0.36.3,
 * config/v1alpha1/types.go; rules from pkg/proxy/apis/config/validation/validation.go).
 */
import { bool, float, int32, list, obj, oneOfStr, str, type Check, type JsonObject } from './dsl.js';
import { cidrs, dns1123Subdomain, ipPort, singleCIDR } from './checks.js';
import { duration, featureGates, ip, logging, nonNegInt32, typeMeta } from './common.js';
import { cidrOf, durationAt } from './values.js';

/** kube-proxy validateKubeProxyIPTablesConfiguration & co: minSyncPeriod <= syncPeriod. */
const syncPeriods: Check<JsonObject> = (o, report) => {
  const sync = durationAt(o, 'syncPeriod');
  const min = durationAt(o, 'minSyncPeriod');
  if (sync !== undefined && sync <= 0) report('must be greater than 0', 'syncPeriod');
  if (min !== undefined && min < 0) report('must be greater than or equal to 0', 'minSyncPeriod');
  if (sync !== undefined && min !== undefined && min > sync) report('minSyncPeriod must not exceed syncPeriod', 'minSyncPeriod');
};

export const kubeProxyConfiguration = obj('KubeProxyConfiguration', {
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
    str({ nonEmpty: true, checks: [(v, report) => v !== 'primary' && !cidrOf(v) && report(`"${v}" must be a CIDR or "primary"`)] }),
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
