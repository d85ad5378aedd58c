/**
 * The add-ons in the Pulumi program: when the stack has flat6:addons, a
 * Kubernetes provider from the stack's kubeconfig (Pulumi secret config
 * flat6:kubeconfig, or a file) and one flat6:k8s:Addons component. A stack
 * with flat6:addons and no cloud section (bare metal) runs the add-ons alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { UsageError } from '../core/diagnostics.js';
import { createPlan, type ClusterPlan } from '../plan/plan.js';
import { loadStack, type LoadedStack } from '../spec/load.js';
import { Addons } from './component.js';
import { addonsSectionOf, planAddons } from './plan.js';
import { ADDONS_KEY } from './section.js';

/** Config keys of the clouds the program builds; a stack with none of them is bare metal. */
const CLOUD_KEYS = ['flat6:aws', 'flat6:oci'];
export const KUBECONFIG_SECRET = 'flat6:kubeconfig';

/** What the program hands in: Pulumi's view of flat6 config. */
export interface AddonsConfigSource {
  /** flat6:addons as Pulumi passed it (must equal the stack file's) */
  addons: unknown;
  /** flat6:kubeconfig, a secret */
  kubeconfig: pulumi.Output<string> | undefined;
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]])) : x,
  );
}

/**
 * The stack of a bare-metal stack (no cloud section) whose add-ons `pulumi up`
 * can create: it has flat6:addons and a way to the cluster (the flat6:kubeconfig
 * secret is set, or kubeconfig.source is file). Else undefined, and the program
 * goes on to its cloud stacks (which refuse a bare-metal stack with NO_CLOUD).
 */
export function addonsOnlyStack(root: string, stackName: string, kubeconfigSecretSet: boolean): { stack: LoadedStack; plan: ClusterPlan } | undefined {
  const file = ['yaml', 'yml'].map((ext) => join(root, 'stacks', `Pulumi.${stackName}.${ext}`)).find((f) => existsSync(f));
  if (!file) return undefined;
  const stack = loadStack(file);
  const raw = addonsSectionOf(stack);
  if (raw === undefined || CLOUD_KEYS.some((k) => Object.hasOwn(stack.config, k))) return undefined;
  const fromFile = (raw as { kubeconfig?: { source?: unknown } } | null)?.kubeconfig?.source === 'file';
  if (!kubeconfigSecretSet && !fromFile) return undefined;
  return { stack, plan: createPlan(stack) };
}

/**
 * Create the add-ons of the stack, if it has flat6:addons. Returns the stack
 * outputs it adds. Without a kubeconfig yet (a cloud stack's first `pulumi up`,
 * before the cluster exists) it creates nothing and says how to go on.
 */
export function deployAddons(stack: LoadedStack, plan: ClusterPlan, root: string, source: AddonsConfigSource): Record<string, unknown> {
  const raw = addonsSectionOf(stack);
  if (raw === undefined) return {};
  if (source.addons !== undefined && canonical(source.addons) !== canonical(raw)) {
    throw new UsageError(`${ADDONS_KEY} that Pulumi passed differs from ${stack.file}; run pulumi from the project directory without --config-file`);
  }
  const p = planAddons(stack, plan);
  if (!p) return {};
  const kc = p.config.kubeconfig;
  let kubeconfig: pulumi.Output<string>;
  if (kc.source === 'file') {
    const file = isAbsolute(kc.path!) ? kc.path! : resolve(root, kc.path!);
    if (!existsSync(file)) throw new UsageError(`${ADDONS_KEY}.kubeconfig.path: ${file} does not exist (copy /etc/kubernetes/admin.conf off the first control-plane node)`);
    kubeconfig = pulumi.secret(readFileSync(file, 'utf8'));
  } else if (source.kubeconfig) {
    kubeconfig = source.kubeconfig;
  } else {
    const how = `pulumi config set --secret ${KUBECONFIG_SECRET} < admin.conf`;
    if (CLOUD_KEYS.some((k) => Object.hasOwn(stack.config, k))) {
      void pulumi.log.warn(`${ADDONS_KEY}: no ${KUBECONFIG_SECRET} yet, so no add-ons this run; once the cluster is up: ${how}, then pulumi up again (docs/addons.md)`);
      return { addons: 'waiting for flat6:kubeconfig' };
    }
    throw new UsageError(`${ADDONS_KEY}.kubeconfig.source is secret but ${KUBECONFIG_SECRET} is not set: ${how}`);
  }
  const provider = new k8s.Provider('flat6-addons', { kubeconfig, ...(kc.context ? { context: kc.context } : {}), enableServerSideApply: true });
  const addons = new Addons('flat6-addons', { plan: p }, { providers: [provider] });
  return { addons: Object.keys(addons.resources) };
}
