/**
 * The flat-network conformance check: one echo server per node (a DaemonSet
 * of agnhost netexec behind a headless, IPv6-only Service) and a Job that
 * checks every rack pair (src/k8s/manifests/check-script.ts), reports PASS or
 * FAIL per check and exits non-zero on any failure. The echo pods accept
 * connections only from each other and from the checker (their netexec also
 * serves /shell and /exit).
 */
import type { AddonsPlan } from '../plan.js';
import { CHECK_SCRIPT } from './check-script.js';
import { FLAT6_NAMESPACE, IPV6_ONLY, labels, lockedDown, PART_OF, POD_IP_ENV, type K8sObject } from './common.js';

export const ECHO = 'flat6-echo';
export const CHECKER = 'flat6-conformance';
export const ECHO_PORT = 8080;
const NS = FLAT6_NAMESPACE;

export function conformanceObjects(p: AddonsPlan): K8sObject[] {
  const c = p.config.conformance;
  const echoLabels = labels(ECHO);
  const checkerLabels = labels(CHECKER);
  const podRangeLength = Number(p.podRange.split('/')[1]);
  const env = (name: string, value: string | number) => ({ name, value: String(value) });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: CHECKER, namespace: NS, labels: checkerLabels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'flat6:conformance', labels: checkerLabels },
      rules: [{ apiGroups: [''], resources: ['services'], verbs: ['list'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'flat6:conformance', labels: checkerLabels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flat6:conformance' },
      subjects: [{ kind: 'ServiceAccount', name: CHECKER, namespace: NS }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: CHECKER, namespace: NS, labels: checkerLabels },
      rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [ECHO], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: CHECKER, namespace: NS, labels: checkerLabels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CHECKER },
      subjects: [{ kind: 'ServiceAccount', name: CHECKER, namespace: NS }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CHECKER, namespace: NS, labels: checkerLabels }, data: { 'check.sh': CHECK_SCRIPT } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${ECHO}-ingress`, namespace: NS, labels: { ...PART_OF } },
      spec: {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': ECHO } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': ECHO } } }, { podSelector: { matchLabels: { 'app.kubernetes.io/name': CHECKER } } }],
            ports: [{ protocol: 'TCP', port: ECHO_PORT }],
          },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: ECHO, namespace: NS, labels: echoLabels },
      spec: {
        clusterIP: 'None',
        ...IPV6_ONLY,
        selector: { 'app.kubernetes.io/name': ECHO },
        ports: [{ name: 'http', port: ECHO_PORT, protocol: 'TCP', targetPort: ECHO_PORT }],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: ECHO, namespace: NS, labels: echoLabels },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': ECHO } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
        template: {
          metadata: { labels: echoLabels },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            tolerations: [{ operator: 'Exists' }],
            containers: [
              {
                name: 'echo',
                image: p.images.agnhost,
                imagePullPolicy: 'IfNotPresent',
                args: ['netexec', `--http-port=${ECHO_PORT}`, '--udp-port=-1'],
                ports: [{ name: 'http', containerPort: ECHO_PORT, protocol: 'TCP' }],
                readinessProbe: { httpGet: { path: '/readyz', port: ECHO_PORT, scheme: 'HTTP' }, periodSeconds: 5 },
                resources: { limits: { memory: '64Mi' }, requests: { cpu: '10m', memory: '16Mi' } },
                securityContext: lockedDown(),
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: CHECKER, namespace: NS, labels: checkerLabels },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: c.timeoutSeconds + 1800,
        template: {
          metadata: { labels: checkerLabels },
          spec: {
            serviceAccountName: CHECKER,
            restartPolicy: 'Never',
            enableServiceLinks: false,
            containers: [
              {
                name: 'check',
                image: p.images.agnhost,
                imagePullPolicy: 'IfNotPresent',
                command: ['/bin/bash', '/flat6/check.sh'],
                env: [
                  POD_IP_ENV,
                  env('NAMESPACE', NS),
                  env('ECHO_NAME', ECHO),
                  env('ECHO_PORT', ECHO_PORT),
                  env('DNS_DOMAIN', p.dnsDomain),
                  env('POD_RANGE', p.podRange),
                  env('POD_RANGE_LENGTH', podRangeLength),
                  env('RACK_POD_LENGTH', p.rackPodLength),
                  env('MTU', p.mtu),
                  env('PAIRS', c.pairsPerRackPair),
                  env('TIMEOUT', c.timeoutSeconds),
                ],
                resources: { limits: { memory: '128Mi' }, requests: { cpu: '50m', memory: '32Mi' } },
                securityContext: lockedDown(['NET_RAW'], false),
                volumeMounts: [{ name: 'script', mountPath: '/flat6', readOnly: true }],
              },
            ],
            volumes: [{ name: 'script', configMap: { name: CHECKER, defaultMode: 0o555 } }],
          },
        },
      },
    },
  ];
}
