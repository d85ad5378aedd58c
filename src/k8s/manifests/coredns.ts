/**
 * CoreDNS for an IPv6-only cluster, in kubeadm's names (kube-system: the
 * coredns ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap and
 * Deployment, and the kube-dns Service at the plan's 10th service address), so
 * applying it takes over kubeadm's CoreDNS in place. CoreDNS listens only on
 * its pod address and forwards to the stack's IPv6 resolvers; with a NAT64
 * prefix the dns64 plugin synthesises AAAA records for IPv4-only names.
 */
import type { AddonsPlan } from '../plan.js';
import { IPV6_ONLY, lockedDown, POD_IP_ENV, type K8sObject } from './common.js';

const NS = 'kube-system';
const DNS_LABELS = { 'k8s-app': 'kube-dns' } as const;

/**
 * The Corefile. Every value in it is checked before it gets here: addresses
 * and prefixes are parsed and printed in RFC 5952 form, the domain matches the
 * DNS-1123 pattern, the rest are integers or fixed text.
 */
export function corefile(p: AddonsPlan): string {
  const d = p.config.dns;
  const lines = [
    '.:53 {',
    '    # Only the pod address: nothing listens on a wildcard.',
    '    bind {$POD_IP}',
    '    errors',
    '    health [{$POD_IP}]:8080 {',
    '        lameduck 5s',
    '    }',
    '    ready [{$POD_IP}]:8181',
    `    kubernetes ${p.dnsDomain} ip6.arpa {`,
    '        pods insecure',
    '        fallthrough ip6.arpa',
    '        ttl 30',
    '    }',
    '    prometheus [{$POD_IP}]:9153',
  ];
  if (p.nat64Prefix) {
    lines.push('    # NAT64 at the site: synthesise AAAA records for IPv4-only names (RFC 6147).', '    dns64 {', `        prefix ${p.nat64Prefix}`, '    }');
  } else if (p.upstreamDns64) {
    lines.push('    # DNS64: the upstream resolver (the AWS VPC resolver) synthesises AAAA records for IPv4-only names.');
  }
  lines.push(
    `    forward . ${p.resolvers.map((r) => `[${r}]:53`).join(' ')} {`,
    '        max_concurrent 1000',
    '    }',
    `    cache ${d.cacheSeconds} {`,
    `        disable success ${p.dnsDomain}`,
    `        disable denial ${p.dnsDomain}`,
    '    }',
    '    loop',
    '    reload',
    '    loadbalance',
    '}',
    '',
  );
  return lines.join('\n');
}

export function corednsObjects(p: AddonsPlan): K8sObject[] {
  const d = p.config.dns;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: NS }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: NS }, data: { Corefile: corefile(p) } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: NS, labels: { ...DNS_LABELS } },
      spec: {
        replicas: d.replicas,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        selector: { matchLabels: { ...DNS_LABELS } },
        template: {
          metadata: { labels: { ...DNS_LABELS } },
          spec: {
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: 'coredns',
            dnsPolicy: 'Default',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
            ],
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { ...DNS_LABELS } }, topologyKey: 'kubernetes.io/hostname' } },
                ],
              },
            },
            containers: [
              {
                name: 'coredns',
                image: p.images.coredns,
                imagePullPolicy: 'IfNotPresent',
                args: ['-conf', '/etc/coredns/Corefile'],
                env: [POD_IP_ENV],
                resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                  { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                ],
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
                livenessProbe: { httpGet: { path: '/health', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5 },
                readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' } },
                securityContext: lockedDown(['NET_BIND_SERVICE'], false),
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kube-dns',
        namespace: NS,
        labels: { ...DNS_LABELS, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
        annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
      },
      spec: {
        selector: { ...DNS_LABELS },
        clusterIP: p.dnsServiceIP,
        clusterIPs: [p.dnsServiceIP],
        ...IPV6_ONLY,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
  ];
}
