/**
 * kubelet.config.k8s.io/v1beta1 KubeletConfiguration (k8s.io/kubelet v0.36.3, config/v1beta1/types.go;
 * rules from pkg/kubelet/apis/config/validation). A data module: the field table, with its checks.
 */
import { closest } from '../core/closest.js';
import { bool, float, int32, int64, list, map, obj, oneOfStr, req, str, type Check } from './dsl.js';
import { criEndpoint, dns1123Subdomain, goDuration, quantity, quantityOrPercent, singleCIDR } from './checks.js';
import {
  absPath,
  duration,
  featureGates,
  ip,
  logging,
  nonNegInt32,
  percent,
  port,
  quantityT,
  strings,
  taint,
  typeMeta,
} from './common.js';

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
  if (!(EVICTION_SIGNALS as readonly string[]).includes(k)) {
    const near = closest(k, EVICTION_SIGNALS);
    report(`unknown eviction signal`, undefined, near ? `did you mean "${near}"?` : `expected one of ${EVICTION_SIGNALS.join(', ')}`);
  }
};
const evictionThresholds = map(str({ nonEmpty: true, checks: [quantityOrPercent] }), { keyChecks: [evictionSignal] });
/** Node-allocatable reservations (kubelet parseResourceList). */
const reservation = map(str({ nonEmpty: true, checks: [quantity] }), {
  keyChecks: [
    (k, report) =>
      !['cpu', 'memory', 'ephemeral-storage', 'pid'].includes(k) && report('only cpu, memory, ephemeral-storage and pid can be reserved'),
  ],
});

export const kubeletConfiguration = obj(
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
