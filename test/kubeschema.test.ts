import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it, expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { formatDiagnostic, type Diagnostic } from '../src/core/diagnostics.js';
import { checkKubeadmFile, validateKubeDocument, validateKubeadmFile, type SchemaIssue } from '../src/kubeschema/schema.js';

type Doc = Record<string, any>;

const CERT_KEY = 'e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204';
const CA_HASH = 'sha256:7c2e1ed0d42b4b8a5c3b6a0a4e0f3a2d1c5b9e8f7a6d5c4b3a2918e7d6c5b4a3';

function initDocs(): Doc[] {
  return [
    {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'InitConfiguration',
      bootstrapTokens: [
        {
          token: 'abcdef.0123456789abcdef',
          description: 'flat6 join token',
          ttl: '24h0m0s',
          usages: ['signing', 'authentication'],
          groups: ['system:bootstrappers:kubeadm:default-node-token'],
        },
      ],
      nodeRegistration: {
        name: 'cp-0.flat6.internal',
        criSocket: 'unix:///run/containerd/containerd.sock',
        taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
        kubeletExtraArgs: [{ name: 'node-ip', value: '2001:db8:0:1::10' }],
        ignorePreflightErrors: ['NumCPU'],
        imagePullPolicy: 'IfNotPresent',
        imagePullSerial: true,
      },
      localAPIEndpoint: { advertiseAddress: '2001:db8:0:1::10', bindPort: 6443 },
      certificateKey: CERT_KEY,
      skipPhases: ['addon/kube-proxy'],
      timeouts: { controlPlaneComponentHealthCheck: '4m0s', kubeletHealthCheck: '4m' },
    },
    {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'ClusterConfiguration',
      clusterName: 'flat6',
      kubernetesVersion: 'v1.36.3',
      controlPlaneEndpoint: '[2001:db8:0:1::100]:6443',
      certificatesDir: '/etc/kubernetes/pki',
      imageRepository: 'registry.k8s.io',
      encryptionAlgorithm: 'ECDSA-P256',
      certificateValidityPeriod: '8760h',
      networking: {
        serviceSubnet: 'fd00:10:96::/112',
        podSubnet: '2001:db8:1::/56',
        dnsDomain: 'cluster.local',
      },
      etcd: {
        local: {
          dataDir: '/var/lib/etcd',
          extraArgs: [
            { name: 'listen-metrics-urls', value: 'http://[::1]:2381' },
            { name: 'listen-client-urls', value: 'https://[::1]:2379,https://[2001:db8:0:1::10]:2379' },
          ],
          serverCertSANs: ['2001:db8:0:1::10', 'cp-0.flat6.internal'],
          peerCertSANs: ['2001:db8:0:1::10'],
        },
      },
      apiServer: {
        certSANs: ['2001:db8:0:1::100', 'api.flat6.example.com', '*.flat6.example.com'],
        extraArgs: [
          { name: 'bind-address', value: '::' },
          { name: 'service-cluster-ip-range', value: 'fd00:10:96::/112' },
        ],
        extraVolumes: [
          { name: 'audit', hostPath: '/etc/kubernetes/audit', mountPath: '/etc/kubernetes/audit', readOnly: true, pathType: 'DirectoryOrCreate' },
        ],
        extraEnvs: [{ name: 'GODEBUG', value: 'netdns=go' }],
      },
      controllerManager: {
        extraArgs: [
          { name: 'bind-address', value: '::' },
          { name: 'allocate-node-cidrs', value: 'true' },
          { name: 'node-cidr-mask-size-ipv6', value: '64' },
        ],
      },
      scheduler: { extraArgs: [{ name: 'bind-address', value: '::' }] },
      dns: { disabled: false },
      proxy: { disabled: false },
      featureGates: { ControlPlaneKubeletLocalMode: true },
    },
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: '::',
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: '::1',
      healthzPort: 10248,
      cgroupDriver: 'systemd',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      clusterDNS: ['fd00:10:96::a'],
      clusterDomain: 'cluster.local',
      staticPodPath: '/etc/kubernetes/manifests',
      rotateCertificates: true,
      serverTLSBootstrap: true,
      tlsMinVersion: 'VersionTLS12',
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true, cacheTTL: '2m0s' },
        x509: { clientCAFile: '/etc/kubernetes/pki/ca.crt' },
      },
      authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5m0s', cacheUnauthorizedTTL: '30s' } },
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10%', 'imagefs.available': '15%' },
      systemReserved: { cpu: '100m', memory: '256Mi' },
      imageGCHighThresholdPercent: 85,
      imageGCLowThresholdPercent: 80,
      maxPods: 110,
      shutdownGracePeriod: '30s',
      shutdownGracePeriodCriticalPods: '10s',
      logging: { format: 'text', flushFrequency: '5s', verbosity: 2, options: { text: { infoBufferSize: '0' } } },
      featureGates: {},
      memorySwap: { swapBehavior: 'NoSwap' },
      tracing: { endpoint: '[::1]:4317', samplingRatePerMillion: 100 },
    },
    {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      bindAddress: '::',
      healthzBindAddress: '[::]:10256',
      metricsBindAddress: '[::1]:10249',
      mode: 'nftables',
      clusterCIDR: '2001:db8:1::/56',
      detectLocalMode: 'ClusterCIDR',
      nodePortAddresses: ['primary'],
      clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf', qps: 5, burst: 10 },
      nftables: { masqueradeBit: 14, masqueradeAll: false, syncPeriod: '30s', minSyncPeriod: '1s' },
      iptables: { masqueradeBit: 14, syncPeriod: '30s', minSyncPeriod: '1s', localhostNodePorts: false },
      ipvs: { scheduler: '', excludeCIDRs: ['2001:db8:ffff::/64'], strictARP: false },
      conntrack: { maxPerCore: 32768, min: 131072, tcpEstablishedTimeout: '24h0m0s', tcpCloseWaitTimeout: '1h0m0s' },
      configSyncPeriod: '15m0s',
      logging: { format: 'json', flushFrequency: 5000000000, verbosity: 0 },
    },
  ];
}

function controlPlaneJoin(): Doc {
  return {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'JoinConfiguration',
    nodeRegistration: {
      name: 'cp-1.flat6.internal',
      criSocket: 'unix:///run/containerd/containerd.sock',
      kubeletExtraArgs: [{ name: 'node-ip', value: '2001:db8:0:1::11' }],
    },
    caCertPath: '/etc/kubernetes/pki/ca.crt',
    discovery: {
      bootstrapToken: {
        token: 'abcdef.0123456789abcdef',
        apiServerEndpoint: '[2001:db8:0:1::100]:6443',
        caCertHashes: [CA_HASH],
      },
      tlsBootstrapToken: 'abcdef.0123456789abcdef',
    },
    controlPlane: {
      localAPIEndpoint: { advertiseAddress: '2001:db8:0:1::11', bindPort: 6443 },
      certificateKey: CERT_KEY,
    },
    timeouts: { tlsBootstrap: '5m', discovery: '5m' },
  };
}

function workerJoin(): Doc {
  return {
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'JoinConfiguration',
    nodeRegistration: {
      name: 'worker-0.flat6.internal',
      criSocket: 'unix:///run/containerd/containerd.sock',
      taints: [],
      kubeletExtraArgs: [{ name: 'node-ip', value: '2001:db8:0:2::20' }],
    },
    discovery: {
      bootstrapToken: {
        token: 'abcdef.0123456789abcdef',
        apiServerEndpoint: 'api.flat6.example.com:6443',
        caCertHashes: [CA_HASH],
      },
    },
  };
}

const byKind = (docs: Doc[], kind: string): Doc => docs.find((d) => d.kind === kind)!;
/** An issue as one line: path, message and hint (where the "did you mean" goes). */
const line = (i: SchemaIssue) => `${i.path}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`;
const fmt = (issues: SchemaIssue[]) => issues.map(line).join('\n');

describe('valid documents', () => {
  it('accepts a realistic IPv6 init file (Init + Cluster + Kubelet + KubeProxy)', () => {
    const docs = initDocs();
    for (const d of docs) expect(fmt(validateKubeDocument(d))).toBe('');
    expect(fmt(validateKubeadmFile(docs))).toBe('');
  });

  it('accepts the same init file parsed from YAML', () => {
    const text = initDocs()
      .map((d) => JSON.stringify(d))
      .join('\n---\n');
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    expect(fmt(validateKubeadmFile(docs))).toBe('');
  });

  it('accepts a control-plane join with certificateKey', () => {
    expect(fmt(validateKubeadmFile([controlPlaneJoin()]))).toBe('');
  });

  it('accepts a worker join', () => {
    expect(fmt(validateKubeadmFile([workerJoin()]))).toBe('');
  });

  it('accepts a worker join that skips CA verification explicitly', () => {
    const j = workerJoin();
    delete j.discovery.bootstrapToken.caCertHashes;
    j.discovery.bootstrapToken.unsafeSkipCAVerification = true;
    expect(fmt(validateKubeadmFile([j]))).toBe('');
  });

  it('accepts Reset and Upgrade configurations on their own', () => {
    expect(
      fmt(
        validateKubeadmFile([
          {
            apiVersion: 'kubeadm.k8s.io/v1beta4',
            kind: 'ResetConfiguration',
            criSocket: 'unix:///run/containerd/containerd.sock',
            certificatesDir: '/etc/kubernetes/pki',
            unmountFlags: ['MNT_DETACH'],
            force: true,
          },
        ]),
      ),
    ).toBe('');
    expect(
      fmt(
        validateKubeadmFile([
          {
            apiVersion: 'kubeadm.k8s.io/v1beta4',
            kind: 'UpgradeConfiguration',
            apply: { kubernetesVersion: 'v1.36.3', certificateRenewal: true, imagePullPolicy: 'IfNotPresent' },
            node: { etcdUpgrade: true },
            timeouts: { upgradeManifests: '5m' },
          },
        ]),
      ),
    ).toBe('');
  });
});

interface Mutation {
  name: string;
  /** 'init' mutates the init file (validated with validateKubeadmFile); 'cpjoin' / 'worker' the join files. */
  base: 'init' | 'cpjoin' | 'worker';
  /** changes docs in place (returns nothing) or returns new documents */
  mutate: (docs: Doc[]) => unknown;
  path: string;
  message?: RegExp;
}

const mutations: Mutation[] = [
  {
    name: 'misspelt field (podSubnett)',
    base: 'init',
    mutate: (d) => {
      const n = byKind(d, 'ClusterConfiguration').networking;
      n.podSubnett = n.podSubnet;
      delete n.podSubnet;
    },
    path: 'ClusterConfiguration.networking.podSubnett',
    message: /unknown field.*did you mean "podSubnet"/,
  },
  {
    name: 'misplaced field (podSubnet at the top of ClusterConfiguration)',
    base: 'init',
    mutate: (d) => {
      const c = byKind(d, 'ClusterConfiguration');
      c.podSubnet = c.networking.podSubnet;
      delete c.networking.podSubnet;
    },
    path: 'ClusterConfiguration.podSubnet',
    message: /belongs at ClusterConfiguration\.networking\.podSubnet/,
  },
  {
    name: 'misplaced field (bindPort directly in InitConfiguration)',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'InitConfiguration').bindPort = 6443;
    },
    path: 'InitConfiguration.bindPort',
    message: /localAPIEndpoint\.bindPort/,
  },
  {
    name: 'misspelt kubelet field (clusterDns)',
    base: 'init',
    mutate: (d) => {
      const k = byKind(d, 'KubeletConfiguration');
      k.clusterDns = k.clusterDNS;
      delete k.clusterDNS;
    },
    path: 'KubeletConfiguration.clusterDns',
    message: /did you mean "clusterDNS"/,
  },
  {
    name: 'misspelt kube-proxy block (nftable)',
    base: 'init',
    mutate: (d) => {
      const p = byKind(d, 'KubeProxyConfiguration');
      p.nftable = p.nftables;
      delete p.nftables;
    },
    path: 'KubeProxyConfiguration.nftable',
  },
  {
    name: 'apiServer extraArgs written as a map (v1beta3 style)',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').apiServer.extraArgs = { 'bind-address': '::' };
    },
    path: 'ClusterConfiguration.apiServer.extraArgs',
    message: /list of \{name, value\}/,
  },
  {
    name: 'kubeletExtraArgs written as a map',
    base: 'worker',
    mutate: (d) => {
      d[0].nodeRegistration.kubeletExtraArgs = { 'node-ip': '2001:db8:0:2::20' };
    },
    path: 'JoinConfiguration.nodeRegistration.kubeletExtraArgs',
    message: /list of \{name, value\}/,
  },
  {
    name: 'extra arg with a numeric value',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').apiServer.extraArgs.push({ name: 'v', value: 4 });
    },
    path: 'ClusterConfiguration.apiServer.extraArgs[2].value',
    message: /expected string, got integer/,
  },
  {
    name: 'extra arg name with leading dashes',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').scheduler.extraArgs[0].name = '--bind-address';
    },
    path: 'ClusterConfiguration.scheduler.extraArgs[0].name',
  },
  {
    name: 'unbracketed IPv6 controlPlaneEndpoint',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').controlPlaneEndpoint = '2001:db8:0:1::100:6443';
    },
    path: 'ClusterConfiguration.controlPlaneEndpoint',
    message: /must be written in brackets/,
  },
  {
    name: 'controlPlaneEndpoint without port',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').controlPlaneEndpoint = 'api.flat6.example.com';
    },
    path: 'ClusterConfiguration.controlPlaneEndpoint',
    message: /missing port/,
  },
  {
    name: 'bracketed advertiseAddress',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'InitConfiguration').localAPIEndpoint.advertiseAddress = '[2001:db8:0:1::10]';
    },
    path: 'InitConfiguration.localAPIEndpoint.advertiseAddress',
    message: /without brackets/,
  },
  {
    name: 'serviceSubnet /100 (too large for IPv6)',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').networking.serviceSubnet = 'fd00:10:96::/100';
    },
    path: 'ClusterConfiguration.networking.serviceSubnet',
    message: />= \/108/,
  },
  {
    name: 'serviceSubnet that is not a CIDR',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').networking.serviceSubnet = 'fd00:10:96::';
    },
    path: 'ClusterConfiguration.networking.serviceSubnet',
    message: /not a valid CIDR/,
  },
  {
    name: 'podSubnet too wide for the /64 node mask',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').networking.podSubnet = '2001:db8::/32';
      byKind(d, 'KubeProxyConfiguration').clusterCIDR = '2001:db8::/32';
    },
    path: 'ClusterConfiguration.networking.podSubnet',
    message: /differ by more than 16 bits/,
  },
  {
    name: 'bad bootstrap token',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'InitConfiguration').bootstrapTokens[0].token = 'ABCDEF.0123456789abcdef';
    },
    path: 'InitConfiguration.bootstrapTokens[0].token',
    message: /\[a-z0-9\]\{6\}/,
  },
  {
    name: 'bad discovery token',
    base: 'worker',
    mutate: (d) => {
      d[0].discovery.bootstrapToken.token = 'abcdef0123456789abcdef';
    },
    path: 'JoinConfiguration.discovery.bootstrapToken.token',
  },
  {
    name: 'short certificateKey',
    base: 'cpjoin',
    mutate: (d) => {
      d[0].controlPlane.certificateKey = CERT_KEY.slice(0, 32);
    },
    path: 'JoinConfiguration.controlPlane.certificateKey',
    message: /32-byte/,
  },
  {
    name: 'non-hex certificateKey',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'InitConfiguration').certificateKey = 'z'.repeat(64);
    },
    path: 'InitConfiguration.certificateKey',
    message: /hex/,
  },
  {
    name: 'wrong type: bindPort as a string',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'InitConfiguration').localAPIEndpoint.bindPort = '6443';
    },
    path: 'InitConfiguration.localAPIEndpoint.bindPort',
    message: /expected int32 in \[1, 65535\], got string/,
  },
  {
    name: 'bindPort out of range',
    base: 'cpjoin',
    mutate: (d) => {
      d[0].controlPlane.localAPIEndpoint.bindPort = 70000;
    },
    path: 'JoinConfiguration.controlPlane.localAPIEndpoint.bindPort',
  },
  {
    name: 'wrong type: rotateCertificates as a string',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeletConfiguration').rotateCertificates = 'true';
    },
    path: 'KubeletConfiguration.rotateCertificates',
    message: /expected boolean, got string/,
  },
  {
    name: 'null value',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'InitConfiguration').nodeRegistration.taints = null;
    },
    path: 'InitConfiguration.nodeRegistration.taints',
    message: /null is not allowed/,
  },
  {
    name: 'wrong apiVersion: kubeadm.k8s.io/v1beta3 is deprecated',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').apiVersion = 'kubeadm.k8s.io/v1beta3';
    },
    path: 'ClusterConfiguration.apiVersion',
    message: /deprecated/,
  },
  {
    name: 'wrong apiVersion: kubelet config under the kubeadm group',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeletConfiguration').apiVersion = 'kubeadm.k8s.io/v1beta4';
    },
    path: 'KubeletConfiguration.kind',
    message: /belongs to apiVersion kubelet\.config\.k8s\.io\/v1beta1/,
  },
  {
    name: 'unknown apiVersion',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeProxyConfiguration').apiVersion = 'kubeproxy.config.k8s.io/v1beta1';
    },
    path: 'KubeProxyConfiguration.apiVersion',
    message: /served as kubeproxy\.config\.k8s\.io\/v1alpha1/,
  },
  {
    name: 'InitConfiguration together with JoinConfiguration',
    base: 'init',
    mutate: (d) => [...d, workerJoin()],
    path: 'InitConfiguration',
    message: /cannot be combined with JoinConfiguration/,
  },
  {
    name: 'kubelet config accompanying a join',
    base: 'worker',
    mutate: (d) => [...d, byKind(initDocs(), 'KubeletConfiguration')],
    path: 'KubeletConfiguration',
  },
  {
    name: 'ClusterConfiguration without InitConfiguration',
    base: 'init',
    mutate: (d) => d.filter((x) => x.kind !== 'InitConfiguration'),
    path: 'InitConfiguration',
    message: /missing InitConfiguration/,
  },
  {
    name: 'same kind twice',
    base: 'init',
    mutate: (d) => [...d, byKind(initDocs(), 'KubeProxyConfiguration')],
    path: 'KubeProxyConfiguration',
    message: /specified twice/,
  },
  {
    name: 'uppercase node name',
    base: 'worker',
    mutate: (d) => {
      d[0].nodeRegistration.name = 'Worker-0';
    },
    path: 'JoinConfiguration.nodeRegistration.name',
    message: /RFC 1123/,
  },
  {
    name: 'kubernetesVersion without the v prefix',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').kubernetesVersion = '1.36.3';
    },
    path: 'ClusterConfiguration.kubernetesVersion',
  },
  {
    name: 'unbracketed IPv6 apiServerEndpoint',
    base: 'worker',
    mutate: (d) => {
      d[0].discovery.bootstrapToken.apiServerEndpoint = '2001:db8:0:1::100:6443';
    },
    path: 'JoinConfiguration.discovery.bootstrapToken.apiServerEndpoint',
    message: /brackets/,
  },
  {
    name: 'token discovery without caCertHashes or unsafeSkipCAVerification',
    base: 'worker',
    mutate: (d) => {
      delete d[0].discovery.bootstrapToken.caCertHashes;
    },
    path: 'JoinConfiguration.discovery.bootstrapToken.caCertHashes',
  },
  {
    name: 'join without discovery',
    base: 'worker',
    mutate: (d) => {
      delete d[0].discovery;
    },
    path: 'JoinConfiguration.discovery',
    message: /required/,
  },
  {
    name: 'clusterDNS entry that is not an IP',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeletConfiguration').clusterDNS = ['kube-dns.kube-system'];
    },
    path: 'KubeletConfiguration.clusterDNS[0]',
    message: /not a valid IP/,
  },
  {
    name: 'clusterDNS outside the service subnet',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeletConfiguration').clusterDNS = ['fd00:10:97::a'];
    },
    path: 'KubeletConfiguration.clusterDNS[0]',
    message: /outside/,
  },
  {
    name: 'unknown eviction signal',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeletConfiguration').evictionHard['memory.avail'] = '100Mi';
    },
    path: 'KubeletConfiguration.evictionHard["memory.avail"]',
  },
  {
    name: 'misspelt field inside kubelet authentication',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeletConfiguration').authentication.anonymous = { enable: false };
    },
    path: 'KubeletConfiguration.authentication.anonymous.enable',
    message: /did you mean "enabled"/,
  },
  {
    name: 'kube-proxy bindAddress that is not an IP',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeProxyConfiguration').bindAddress = '[::]';
    },
    path: 'KubeProxyConfiguration.bindAddress',
  },
  {
    name: 'kube-proxy metricsBindAddress with unbracketed IPv6',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeProxyConfiguration').metricsBindAddress = '::1:10249';
    },
    path: 'KubeProxyConfiguration.metricsBindAddress',
    message: /brackets/,
  },
  {
    name: 'kube-proxy healthzBindAddress without a port',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeProxyConfiguration').healthzBindAddress = '::';
    },
    path: 'KubeProxyConfiguration.healthzBindAddress',
  },
  {
    name: 'kube-proxy clusterCIDR differing from podSubnet',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeProxyConfiguration').clusterCIDR = '2001:db8:2::/56';
    },
    path: 'KubeProxyConfiguration.clusterCIDR',
  },
  {
    name: 'kube-proxy unknown mode',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeProxyConfiguration').mode = 'userspace';
    },
    path: 'KubeProxyConfiguration.mode',
  },
  {
    name: 'kube-proxy minSyncPeriod above syncPeriod',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'KubeProxyConfiguration').nftables.minSyncPeriod = '1m';
    },
    path: 'KubeProxyConfiguration.nftables.minSyncPeriod',
  },
  {
    name: 'duration that Go cannot parse',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'InitConfiguration').bootstrapTokens[0].ttl = '1 day';
    },
    path: 'InitConfiguration.bootstrapTokens[0].ttl',
  },
  {
    name: 'v1beta3-era apiServer.timeoutForControlPlane',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').apiServer.timeoutForControlPlane = '4m';
    },
    path: 'ClusterConfiguration.apiServer.timeoutForControlPlane',
    message: /controlPlaneComponentHealthCheck/,
  },
  {
    name: 'etcd local and external together',
    base: 'init',
    mutate: (d) => {
      byKind(d, 'ClusterConfiguration').etcd.external = { endpoints: ['https://[2001:db8::5]:2379'] };
    },
    path: 'ClusterConfiguration.etcd',
    message: /mutually exclusive/,
  },
];

describe('mutations are reported at the right path', () => {
  const bases = { init: initDocs, cpjoin: () => [controlPlaneJoin()], worker: () => [workerJoin()] };
  it.each(mutations)('$name → $path', ({ base, mutate, path, message }) => {
    const docs = bases[base]();
    const result = mutate(docs);
    const mutated = Array.isArray(result) ? (result as Doc[]) : docs;
    const issues = validateKubeadmFile(mutated);
    const hits = issues.filter((i) => i.path === path);
    expect(hits, `no issue at ${path}; got:\n${fmt(issues)}`).not.toHaveLength(0);
    if (message) expect(fmt(hits)).toMatch(message);
  });
});

describe('validateKubeDocument', () => {
  it('rejects documents without apiVersion/kind, and non-mapping documents', () => {
    expect(validateKubeDocument({ kind: 'InitConfiguration' })).toEqual([
      { path: 'InitConfiguration.apiVersion', message: expect.stringMatching(/required/), at: ['apiVersion'] },
    ]);
    expect(validateKubeDocument({ apiVersion: 'kubeadm.k8s.io/v1beta4' }).map((i) => i.path)).toEqual(['(document).kind']);
    expect(validateKubeDocument('kind: InitConfiguration').map((i) => i.path)).toEqual(['(document)']);
  });

  it('reports an unknown kind with a suggestion', () => {
    const issues = validateKubeDocument({ apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'InitConfig' });
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe('InitConfig.kind');
    expect(issues[0].hint).toMatch(/did you mean "InitConfiguration"/);
  });

  it('reports a deprecated apiVersion once, without cascading field errors', () => {
    const v1beta3 = {
      apiVersion: 'kubeadm.k8s.io/v1beta3',
      kind: 'ClusterConfiguration',
      apiServer: { extraArgs: { 'bind-address': '::' } },
    };
    expect(validateKubeDocument(v1beta3).map((i) => i.path)).toEqual(['ClusterConfiguration.apiVersion']);
  });

  it('checks each IPv4/IPv6 service subnet bound', () => {
    const cluster = (serviceSubnet: string) => ({
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'ClusterConfiguration',
      networking: { serviceSubnet },
    });
    expect(validateKubeDocument(cluster('fd00:10:96::/108'))).toEqual([]);
    expect(validateKubeDocument(cluster('fd00:10:96::/107'))).toHaveLength(1);
    expect(validateKubeDocument(cluster('fd00:10:96::/125'))[0].message).toMatch(/too small/);
    expect(validateKubeDocument(cluster('10.96.0.0/12,fd00:10:96::/112'))).toEqual([]);
    expect(validateKubeDocument(cluster('fd00:10:96::/112,fd00:10:97::/112'))[0].message).toMatch(/dual-stack/);
  });

  it('accepts IPv4 and DNS controlPlaneEndpoints with a port', () => {
    for (const ep of ['10.0.0.1:6443', 'api.flat6.example.com:443', '[::1]:6443']) {
      const doc = { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'ClusterConfiguration', controlPlaneEndpoint: ep };
      expect(fmt(validateKubeDocument(doc))).toBe('');
    }
  });

  it('rejects bootstrap token groups without the authentication usage, and ttl with expires', () => {
    const doc = byKind(initDocs(), 'InitConfiguration');
    doc.bootstrapTokens[0].usages = ['signing'];
    doc.bootstrapTokens[0].expires = '2030-01-01T00:00:00Z';
    const paths = validateKubeDocument(doc).map((i) => i.path);
    expect(paths).toContain('InitConfiguration.bootstrapTokens[0].groups');
    expect(paths).toContain('InitConfiguration.bootstrapTokens[0]');
  });
});

// ---------------------------------------------------------------------------------------------
// checkKubeadmFile: YAML text in, located diagnostics out
// ---------------------------------------------------------------------------------------------

const GOLDEN = join(import.meta.dirname, 'golden');
function goldenKubeadmFiles(dir = GOLDEN): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? goldenKubeadmFiles(join(dir, e.name)) : /^kubeadm[^/]*\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}
const goldenText = (rel: string) => readFileSync(join(GOLDEN, rel), 'utf8');
const INIT = 'metal/hosts/cp1/etc/flat6/kubeadm.yaml';
const JOIN = 'metal/hosts/cp2/etc/flat6/kubeadm.yaml';

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function posOf(text: string, needle: string): { line: number; col: number } {
  const at = text.indexOf(needle);
  expect(at, `"${needle}" not in the text`).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}
const brief = (ds: Diagnostic[]) => ds.map((d) => formatDiagnostic(d)).join('\n');

describe('checkKubeadmFile', () => {
  it('accepts every kubeadm file of the golden trees', () => {
    const files = goldenKubeadmFiles();
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) expect(brief(checkKubeadmFile(readFileSync(f, 'utf8'), relative(GOLDEN, f))), f).toBe('');
  });

  it('places a misspelt field at its key, with the kind, the field path and a did-you-mean fix', () => {
    const text = goldenText(INIT).replace('  podSubnet:', '  podSubnett:');
    const ds = checkKubeadmFile(text, 'hosts/cp1/etc/flat6/kubeadm.yaml');
    const d = ds.find((x) => x.path === 'networking.podSubnett')!;
    expect(d, brief(ds)).toBeDefined();
    expect(d).toMatchObject({
      code: 'KUBEADM_SCHEMA',
      severity: 'error',
      section: 'ClusterConfiguration',
      message: 'unknown field "podSubnett" in Networking',
      fix: 'did you mean "podSubnet"?',
      location: { file: 'hosts/cp1/etc/flat6/kubeadm.yaml', ...posOf(text, 'podSubnett') },
    });
    expect(formatDiagnostic(d)).toBe(
      [
        `hosts/cp1/etc/flat6/kubeadm.yaml:${d.location!.line}:3: error KUBEADM_SCHEMA: unknown field "podSubnett" in Networking`,
        '  at ClusterConfiguration.networking.podSubnett',
        '  fix: did you mean "podSubnet"?',
      ].join('\n'),
    );
  });

  it('places a bad value at the value, in the right document', () => {
    const text = goldenText(INIT).replace('bindPort: 6444', 'bindPort: 70000').replace('healthzBindAddress: "::1"', 'healthzBindAddress: "[::1]"');
    const ds = checkKubeadmFile(text, 'f');
    expect(ds.map((d) => [d.section, d.path, d.location!.line, d.location!.col])).toEqual([
      ['InitConfiguration', 'localAPIEndpoint.bindPort', posOf(text, '70000').line, posOf(text, '70000').col],
      ['KubeletConfiguration', 'healthzBindAddress', posOf(text, '"[::1]"').line, posOf(text, '"[::1]"').col],
    ]);
    expect(ds[1].fix).toBe('write "::1"');
  });

  it('places list items, map keys and missing required fields', () => {
    const text = goldenText(INIT)
      .replace('      value: "false"', '      value: off') // YAML 1.1: a boolean, as kubeadm reads it
      .replace('  - "2001:db8:43::a"', '  - "2001:db8:44::a"')
      .replace('  - name: "bind-address"\n      value: "::1"\netcd:', '  - value: "::1"\netcd:');
    const ds = checkKubeadmFile(text, 'f');
    const where = (path: string) => {
      const d = ds.find((x) => x.path === path);
      expect(d, `${path} in\n${brief(ds)}`).toBeDefined();
      return [d!.location!.line, d!.location!.col];
    };
    expect(where('controllerManager.extraArgs[0].value')).toEqual([posOf(text, 'off').line, posOf(text, 'off').col]);
    expect(ds.find((x) => x.path === 'controllerManager.extraArgs[0].value')!.message).toBe('expected string, got boolean');
    expect(where('clusterDNS[0]')).toEqual([posOf(text, '"2001:db8:44::a"').line, posOf(text, '"2001:db8:44::a"').col]);
    // the scheduler's only arg lost its name: reported at the list item that lacks it
    const sched = posOf(text, '  - value: "::1"\netcd:');
    expect(where('scheduler.extraArgs[0].name')).toEqual([sched.line, sched.col + 4]);
  });

  it('reports unknown and retired kinds and apiVersions at their lines', () => {
    const text = goldenText(JOIN).replace('apiVersion: kubeadm.k8s.io/v1beta4', 'apiVersion: kubeadm.k8s.io/v1beta3');
    const ds = checkKubeadmFile(text, 'f');
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ section: 'JoinConfiguration', path: 'apiVersion', location: { ...posOf(text, 'kubeadm.k8s.io/v1beta3') } });
    expect(ds[0].fix).toMatch(/v1beta4/);
  });

  it('reports the rules between documents at the document they concern', () => {
    const init = goldenText(INIT);
    const text = `${goldenText(JOIN)}\n---\n${init.slice(init.indexOf('apiVersion: kubelet.config.k8s.io'), init.indexOf('---\napiVersion: kubeproxy'))}`;
    const ds = checkKubeadmFile(text, 'f');
    expect(ds.map((d) => [d.section, d.message, d.location!.line])).toEqual([
      ['KubeletConfiguration', 'KubeletConfiguration cannot accompany JoinConfiguration', posOf(text, 'kind: KubeletConfiguration').line],
    ]);
    expect(ds[0].path).toBeUndefined();
  });

  it('reports YAML that does not parse, and nothing else', () => {
    const text = goldenText(INIT).replace('  podSubnet: "2001:db8:42::/48"', '  podSubnet: "2001:db8:42::/48"\n  podSubnet: "2001:db8:42::/48"');
    const ds = checkKubeadmFile(text, 'f');
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ code: 'YAML_SYNTAX', severity: 'error', location: { file: 'f', line: posOf(text, '  podSubnet').line + 1 } });
    expect(checkKubeadmFile('kind: [', 'f')[0].code).toBe('YAML_SYNTAX');
  });

  it('reads YAML as kubeadm does: 1.1 booleans, timestamps left as text, empty documents skipped', () => {
    const join = goldenText(JOIN);
    // an unquoted RFC 3339 time stays a string for kubeadm (go-yaml v2), so it is no error here either
    const cp = `${goldenText(INIT).replace('    ttl: "24h0m0s"', '    expires: 2030-01-01T00:00:00Z')}\n---\n`;
    expect(brief(checkKubeadmFile(cp, 'f'))).toBe('');
    expect(brief(checkKubeadmFile(`---\n${join}\n---\n`, 'f'))).toBe('');
    const onlyComment = checkKubeadmFile(`${join}\n---\n# nothing here\n`, 'f');
    expect(onlyComment.map((d) => d.message)).toEqual(['expected a mapping document, got null']);
    const yes = checkKubeadmFile(join.replace('unsafeSkipCAVerification: true', 'unsafeSkipCAVerification: yes'), 'f');
    expect(brief(yes)).toBe('');
  });

  it('an empty file is one diagnostic about the file', () => {
    expect(checkKubeadmFile('', 'f')).toEqual([
      { code: 'KUBEADM_SCHEMA', severity: 'error', message: 'a kubeadm config file needs at least one document', location: { file: 'f', line: 1, col: 1 } },
    ]);
  });

  it('every renamed key of a rendered file is reported at that key', () => {
    for (const rel of [INIT, JOIN]) {
      const lines = goldenText(rel).split('\n');
      lines.forEach((l, n) => {
        const m = /^(\s*(?:- )?)([A-Za-z]+):/.exec(l);
        if (!m || m[2] === 'apiVersion' || m[2] === 'kind') return;
        const renamed = [...lines.slice(0, n), `${m[1]}${m[2]}Zz:${l.slice(m[0].length)}`, ...lines.slice(n + 1)].join('\n');
        const ds = checkKubeadmFile(renamed, rel);
        const hit = ds.find((d) => d.message.startsWith(`unknown field "${m[2]}Zz"`));
        expect(hit, `${rel}:${n + 1} ${m[2]}\n${brief(ds)}`).toBeDefined();
        expect(hit!.location).toEqual({ file: rel, line: n + 1, col: m[1].length + 1 });
        expect(hit!.fix, `${rel}:${n + 1}`).toBe(`did you mean "${m[2]}"?`);
      });
    }
  });
});
