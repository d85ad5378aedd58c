/**
 * The add-on manifests as files: a pure function of the add-on plan. The same
 * objects, in the same order, are what `flat6 render` writes to
 * <out>/cluster/addons/ and what the flat6:k8s:Addons component creates.
 * Files are ordered so `kubectl apply -f <out>/cluster/addons/` works: the
 * namespace first, then each add-on with its RBAC and configuration before
 * its workloads.
 */
import { stringify } from 'yaml';
import type { K8sObject } from './manifests/common.js';
import { FLAT6_NAMESPACE, namespaceObject } from './manifests/common.js';
import { conformanceObjects } from './manifests/conformance.js';
import { corednsObjects } from './manifests/coredns.js';
import { etcdBackupObjects } from './manifests/etcd-backup.js';
import { policyObjects } from './manifests/policy.js';
import type { AddonsPlan } from './plan.js';

export type { K8sObject };

/** Where the add-on files go below the render output. */
export const ADDONS_DIR = 'cluster/addons';

export interface AddonFile {
  /** file name inside cluster/addons/ */
  name: string;
  objects: K8sObject[];
}

/** Every add-on file with objects, in apply order. */
export function addonFiles(p: AddonsPlan): AddonFile[] {
  const c = p.config;
  const ownNamespace = (c.etcdBackup.enabled && p.controlPlanes.length > 0) || c.conformance.enabled;
  const files: AddonFile[] = [
    { name: '00-namespace.yaml', objects: ownNamespace ? [namespaceObject(FLAT6_NAMESPACE)] : [] },
    { name: '10-coredns.yaml', objects: c.dns.enabled ? corednsObjects(p) : [] },
    { name: '20-network-policies.yaml', objects: policyObjects(p) },
    { name: '30-etcd-backup.yaml', objects: c.etcdBackup.enabled ? etcdBackupObjects(p) : [] },
    { name: '40-conformance.yaml', objects: c.conformance.enabled ? conformanceObjects(p) : [] },
  ];
  return files.filter((f) => f.objects.length > 0);
}

/** Every object of every file, in apply order. */
export function addonObjects(p: AddonsPlan): K8sObject[] {
  return addonFiles(p).flatMap((f) => f.objects);
}

/** A stable resource name for an object: kind, namespace and name (unique in a cluster). */
export function objectKey(o: K8sObject): string {
  return [o.kind.toLowerCase(), o.metadata.namespace, o.metadata.name].filter((x) => x !== undefined).join(':');
}

const HEADER = (name: string) =>
  `# flat6 add-ons: ${name}. Generated from the stack by flat6 render; apply the directory with kubectl apply -f (docs/addons.md).\n`;

/** One file's YAML: one document per object, written by the yaml library (no string assembly of values). */
export function addonFileYaml(f: AddonFile): string {
  const docs = f.objects.map((o) => stringify(o, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false }));
  return HEADER(f.name) + docs.map((d) => `---\n${d}`).join('');
}
