/**
 * kubeadm.k8s.io/v1beta4: InitConfiguration, ClusterConfiguration, JoinConfiguration,
 * ResetConfiguration, UpgradeConfiguration (cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go, rules from
 * cmd/kubeadm/app/apis/kubeadm/validation/validation.go cited by function name). A data module: the
 * field tables of each kind, with their checks.
 */
import { bool, int64, list, obj, oneOfStr, opaque, req, str, type Check, type JsonObject } from './dsl.js';
import {
  absolutePath,
  bootstrapGroup,
  bootstrapToken,
  caCertHash,
  certificateKey,
  certSAN,
  cidrs,
  dns1123Subdomain,
  hostPort,
  httpURL,
  imageRepository,
  kubernetesVersion,
  unixSocketURL,
} from './checks.js';
import { absPath, duration, featureGates, ip, port, PULL_POLICIES, strings, taint, time, typeMeta } from './common.js';
import { cidrOf, field, isPlainObject } from './values.js';

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
    const c = cidrOf(part);
    if (!c) continue; // reported by the networking.podSubnet check
    const raw = argValue(c.family === 6 ? 'node-cidr-mask-size-ipv6' : 'node-cidr-mask-size-ipv4');
    const nodeMask = raw === undefined ? (c.family === 6 ? 64 : 24) : Number(raw);
    if (!Number.isInteger(nodeMask)) {
      report(`controllerManager node-cidr-mask-size-ipv${c.family} "${raw}" is not an integer`, 'networking.podSubnet');
    } else if (c.length > nodeMask) {
      report(`pod subnet /${c.length} is smaller than the per-node subnet /${nodeMask}`, 'networking.podSubnet');
    } else if (nodeMask - c.length > 16) {
      report(
        `pod subnet /${c.length} and node mask /${nodeMask} differ by more than 16 bits`,
        'networking.podSubnet',
        'flat6 allocates pod prefixes itself: set the controllerManager extra arg allocate-node-cidrs to "false"',
      );
    }
  }
};

export const KUBEADM_V1BETA4 = 'kubeadm.k8s.io/v1beta4';

export const initConfiguration = obj('InitConfiguration', {
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

export const clusterConfiguration = obj(
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

export const joinConfiguration = obj('JoinConfiguration', {
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
export const resetConfiguration = obj('ResetConfiguration', {
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
export const upgradeConfiguration = obj('UpgradeConfiguration', {
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
