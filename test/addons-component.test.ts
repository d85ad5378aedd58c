/**
 * The flat6:k8s:Addons component under `pulumi.runtime.setMocks`: for each
 * bundled stack with add-ons, the program glue registers one Kubernetes
 * provider (from the secret kubeconfig) and exactly the add-on objects, each
 * equal to the document `flat6 render` writes (read back from the golden
 * tree), in the same order, all children of one flat6:k8s:Addons component.
 * Modules that import Pulumi are loaded only after the mocks are set.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { GOLDEN, ROOT, stackText } from './helpers.js';

interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  provider?: string;
}

let recorded: Recorded[] = [];
const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    recorded.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
    return { id: `${args.name}-id`, state: args.inputs };
  },
  call(args) {
    return args.inputs;
  },
};

const KUBECONFIG = 'apiVersion: v1\nkind: Config\nclusters: []\n';

async function runAddons(stackName: string, extraConfig: Record<string, string> = {}, secret = true): Promise<Record<string, unknown>> {
  recorded = [];
  await pulumi.runtime.setMocks(mocks, 'flat6', stackName, false);
  const config = (parse(stackText(stackName)) as { config: Record<string, unknown> }).config;
  const all: Record<string, string> = { ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, JSON.stringify(v)])), ...extraConfig };
  if (secret) all['flat6:kubeconfig'] = KUBECONFIG;
  pulumi.runtime.setAllConfig(all, ['flat6:kubeconfig']);
  const { addonsOnlyStack, deployAddons } = await import('../src/k8s/program.js');
  const cfg = new pulumi.Config('flat6');
  const found = addonsOnlyStack(ROOT, stackName, true);
  if (!found) throw new Error(`${stackName} is not a bare-metal stack with add-ons`);
  const outputs = deployAddons(found.stack, found.plan, ROOT, { addons: cfg.getObject('addons'), kubeconfig: cfg.getSecret('kubeconfig') });
  // let every registration arrive
  let last = -1;
  for (let stable = 0; stable < 3; ) {
    await new Promise((r) => setTimeout(r, 10));
    stable = recorded.length === last ? stable + 1 : 0;
    last = recorded.length;
  }
  return outputs;
}

/** The rendered objects of a stack, from its golden tree (what flat6 render writes), in file and document order. */
function goldenObjects(stackName: string): Array<Record<string, any>> {
  const dir = join(GOLDEN, stackName, 'cluster', 'addons');
  return readdirSync(dir)
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as Record<string, any>));
}

const TYPES: Record<string, string> = {
  Namespace: 'kubernetes:core/v1:Namespace',
  ServiceAccount: 'kubernetes:core/v1:ServiceAccount',
  ConfigMap: 'kubernetes:core/v1:ConfigMap',
  Service: 'kubernetes:core/v1:Service',
  Deployment: 'kubernetes:apps/v1:Deployment',
  DaemonSet: 'kubernetes:apps/v1:DaemonSet',
  Job: 'kubernetes:batch/v1:Job',
  CronJob: 'kubernetes:batch/v1:CronJob',
  NetworkPolicy: 'kubernetes:networking.k8s.io/v1:NetworkPolicy',
  ClusterRole: 'kubernetes:rbac.authorization.k8s.io/v1:ClusterRole',
  ClusterRoleBinding: 'kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding',
  Role: 'kubernetes:rbac.authorization.k8s.io/v1:Role',
  RoleBinding: 'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding',
};

describe('flat6:k8s:Addons under Pulumi mocks', () => {
  it.each(['metal', 'multirack'])('%s: registers exactly the rendered objects, equal to the rendered YAML', async (stackName) => {
    const outputs = await runAddons(stackName);
    const golden = goldenObjects(stackName);
    const objects = recorded.filter((r) => r.type.startsWith('kubernetes:') && r.type !== 'pulumi:providers:kubernetes');
    // Registrations reach the engine as their inputs resolve; the component declares them in file order.
    const key = (o: Record<string, any>) => `${o['kind']}/${o['metadata'].namespace ?? ''}/${o['metadata'].name}`;
    const byKey = (xs: Array<Record<string, any>>) => [...xs].sort((a, b) => key(a).localeCompare(key(b)));
    expect(byKey(objects.map((r) => r.inputs))).toEqual(byKey(golden));
    for (const r of objects) expect(r.type, r.name).toBe(TYPES[r.inputs['kind']]);
    const { resourceName } = await import('../src/k8s/component.js');
    expect(outputs['addons']).toEqual(golden.map((o) => resourceName('flat6-addons', o as never)));
    expect(recorded.filter((r) => r.type === 'flat6:k8s:Addons').map((r) => r.name)).toEqual(['flat6-addons']);
    const providers = recorded.filter((r) => r.type === 'pulumi:providers:kubernetes');
    expect(providers).toHaveLength(1);
    expect(providers[0].inputs['enableServerSideApply']).toBe('true');
    for (const o of objects) expect(o.provider, o.name).toMatch(/pulumi:providers:kubernetes::flat6-addons::/);
    expect(recorded).toHaveLength(objects.length + 2);
    expect(new Set(objects.map((o) => o.name)).size).toBe(objects.length);
  });

  it('the Pulumi program runs a bare-metal stack with add-ons as the add-ons alone', async () => {
    await runAddons('metal');
    recorded = [];
    const program = (await import('../src/program/index.js')).default;
    const outputs = await program();
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 10));
    expect(recorded.filter((r) => r.type === 'flat6:k8s:Addons')).toHaveLength(1);
    expect(recorded.filter((r) => r.type.startsWith('kubernetes:')).length).toBe(goldenObjects('metal').length);
    expect((outputs['addons'] as string[]).length).toBe(goldenObjects('metal').length);
  });

  it('a bare-metal stack with add-ons and no flat6:kubeconfig stops with the command that sets it', async () => {
    await expect(runAddons('metal', {}, false)).rejects.toThrow(/pulumi config set --secret flat6:kubeconfig/);
  });

  it('flat6:addons that Pulumi passed must equal the stack file', async () => {
    await expect(runAddons('metal', { 'flat6:addons': JSON.stringify({ dns: { replicas: 5 } }) })).rejects.toThrow(/differs from/);
  });

  it('a cloud stack or a stack without add-ons is not run as add-ons alone', async () => {
    const { addonsOnlyStack } = await import('../src/k8s/program.js');
    expect(addonsOnlyStack(ROOT, 'aws-lab', true)).toBeUndefined();
    expect(addonsOnlyStack(ROOT, 'scale', true)).toBeUndefined();
    expect(addonsOnlyStack(ROOT, 'no-such-stack', true)).toBeUndefined();
    // without a way to the cluster a bare-metal stack is left to the program's NO_CLOUD refusal
    expect(addonsOnlyStack(ROOT, 'metal', false)).toBeUndefined();
    expect(addonsOnlyStack(ROOT, 'metal', true)).toBeDefined();
  });
});
