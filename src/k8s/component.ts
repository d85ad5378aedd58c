/**
 * flat6:k8s:Addons — the add-ons as Pulumi resources: exactly the objects of
 * src/k8s/addons.ts (the ones `flat6 render` writes to cluster/addons/), one
 * typed @pulumi/kubernetes resource each, in the same order. An object waits
 * for every object of the earlier files and for the configuration (RBAC,
 * ConfigMaps, Services) before it in its own file, which is the order
 * `kubectl apply -f cluster/addons/` creates them in.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { addonFiles, type K8sObject } from './addons.js';
import type { AddonsPlan } from './plan.js';

export interface AddonsArgs {
  /** the add-on plan (planAddons): every object comes from it */
  readonly plan: AddonsPlan;
}

type Make = (name: string, obj: K8sObject, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** An object as the args of its typed resource: the plain form of its kind, checked against the Kubernetes schema in tests. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T is the typed resource's args type, chosen at each call
function args<T>(o: K8sObject): T {
  return o as unknown as T;
}

const MAKERS: Record<string, Make> = {
  'v1/Namespace': (n, o, opts) => new k8s.core.v1.Namespace(n, args<k8s.core.v1.NamespaceArgs>(o), opts),
  'v1/ServiceAccount': (n, o, opts) => new k8s.core.v1.ServiceAccount(n, args<k8s.core.v1.ServiceAccountArgs>(o), opts),
  'v1/ConfigMap': (n, o, opts) => new k8s.core.v1.ConfigMap(n, args<k8s.core.v1.ConfigMapArgs>(o), opts),
  'v1/Service': (n, o, opts) => new k8s.core.v1.Service(n, args<k8s.core.v1.ServiceArgs>(o), opts),
  'apps/v1/Deployment': (n, o, opts) => new k8s.apps.v1.Deployment(n, args<k8s.apps.v1.DeploymentArgs>(o), opts),
  'apps/v1/DaemonSet': (n, o, opts) => new k8s.apps.v1.DaemonSet(n, args<k8s.apps.v1.DaemonSetArgs>(o), opts),
  'batch/v1/Job': (n, o, opts) => new k8s.batch.v1.Job(n, args<k8s.batch.v1.JobArgs>(o), opts),
  'batch/v1/CronJob': (n, o, opts) => new k8s.batch.v1.CronJob(n, args<k8s.batch.v1.CronJobArgs>(o), opts),
  'networking.k8s.io/v1/NetworkPolicy': (n, o, opts) => new k8s.networking.v1.NetworkPolicy(n, args<k8s.networking.v1.NetworkPolicyArgs>(o), opts),
  'rbac.authorization.k8s.io/v1/ClusterRole': (n, o, opts) => new k8s.rbac.v1.ClusterRole(n, args<k8s.rbac.v1.ClusterRoleArgs>(o), opts),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (n, o, opts) => new k8s.rbac.v1.ClusterRoleBinding(n, args<k8s.rbac.v1.ClusterRoleBindingArgs>(o), opts),
  'rbac.authorization.k8s.io/v1/Role': (n, o, opts) => new k8s.rbac.v1.Role(n, args<k8s.rbac.v1.RoleArgs>(o), opts),
  'rbac.authorization.k8s.io/v1/RoleBinding': (n, o, opts) => new k8s.rbac.v1.RoleBinding(n, args<k8s.rbac.v1.RoleBindingArgs>(o), opts),
};

const WORKLOADS = new Set(['Deployment', 'DaemonSet', 'Job', 'CronJob']);

/**
 * The Pulumi name of an object: the component's name, kind, namespace and
 * object name. Stable: it changes only when the object itself would.
 */
export function resourceName(component: string, o: K8sObject): string {
  return [component, o.kind.toLowerCase(), o.metadata.namespace, o.metadata.name.replace(/:/g, '.')].filter((x) => x !== undefined).join('-');
}

export class Addons extends pulumi.ComponentResource {
  /** every Kubernetes resource, by Pulumi name, in creation order */
  readonly resources: Record<string, pulumi.CustomResource> = {};

  constructor(name: string, args: AddonsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('flat6:k8s:Addons', name, {}, opts);
    let earlier: pulumi.Resource[] = [];
    for (const file of addonFiles(args.plan)) {
      const made: pulumi.Resource[] = [];
      const config: pulumi.Resource[] = [];
      for (const obj of file.objects) {
        const make = MAKERS[`${obj.apiVersion}/${obj.kind}`];
        if (!make) throw new Error(`flat6:k8s:Addons has no resource type for ${obj.apiVersion} ${obj.kind}`);
        const rname = resourceName(name, obj);
        if (Object.hasOwn(this.resources, rname)) throw new Error(`two add-on objects are both named ${rname}`);
        const dependsOn = [...earlier, ...(WORKLOADS.has(obj.kind) ? config : [])];
        const r = make(rname, obj, { parent: this, dependsOn });
        this.resources[rname] = r;
        made.push(r);
        if (!WORKLOADS.has(obj.kind)) config.push(r);
      }
      earlier = [...earlier, ...made];
    }
    this.registerOutputs({ resources: Object.keys(this.resources) });
  }
}
