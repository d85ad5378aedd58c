/** Shared shapes and labels of the add-on manifests (plain Kubernetes objects, JSON-serialisable). */

/** A Kubernetes object as written to YAML and handed to @pulumi/kubernetes. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The namespace of flat6's own add-ons (etcd backups, conformance check). */
export const FLAT6_NAMESPACE = 'flat6-system';

export const PART_OF = { 'app.kubernetes.io/part-of': 'flat6', 'app.kubernetes.io/managed-by': 'flat6' } as const;

export function labels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, ...PART_OF };
}

/** Every Service flat6 creates: IPv6 single-stack. */
export const IPV6_ONLY = { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] } as const;

/** A container that cannot gain privileges, with a read-only root and no capabilities beyond `add`. */
export function lockedDown(add: string[] = [], runAsNonRoot = true): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    ...(runAsNonRoot ? { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534 } : {}),
    capabilities: { drop: ['ALL'], ...(add.length ? { add } : {}) },
  };
}

export const CONTROL_PLANE_TOLERATION = { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' } as const;

/** The downward-API environment variable holding the pod's own address. */
export const POD_IP_ENV = { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } } as const;

export function namespaceObject(name: string): K8sObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...PART_OF, 'pod-security.kubernetes.io/enforce': 'privileged' } } };
}
