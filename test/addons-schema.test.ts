/**
 * Every add-on manifest that flat6 renders validates against the Kubernetes
 * OpenAPI definitions of the stack's Kubernetes version
 * (test/fixtures/k8s-openapi/v<major>.<minor>.json, source in its README), as
 * strictly as the API server's field validation: an unknown (misspelt) field,
 * a missing required field or a value of the wrong type fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validateObject, type Definitions } from '../src/k8s/openapi.js';
import { renderAddons } from '../src/k8s/render.js';
import { createPlan } from '../src/plan/plan.js';
import { parseStack } from '../src/spec/load.js';
import { FIXTURES, stackPath, stackText } from './helpers.js';

const STACKS = ['metal', 'multirack'] as const;

function definitionsFor(version: string): Definitions {
  const m = /^v?(\d+)\.(\d+)\./.exec(version);
  const file = join(FIXTURES, 'k8s-openapi', `v${m?.[1]}.${m?.[2]}.json`);
  if (!existsSync(file)) throw new Error(`no OpenAPI definitions for Kubernetes ${version}: add ${file} (test/fixtures/k8s-openapi/README.md)`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { definitions: Definitions }).definitions;
}

function rendered(name: string): { version: string; docs: Array<{ file: string; obj: Record<string, any> }> } {
  const stack = parseStack(stackPath(name), stackText(name));
  const plan = createPlan(stack);
  const docs = renderAddons(stack, plan).flatMap((f) => parseAllDocuments(f.content).map((d) => ({ file: f.path, obj: d.toJS() as Record<string, any> })));
  return { version: plan.kubernetesVersion, docs };
}

describe('add-on manifests validate against the Kubernetes OpenAPI schema of the stack version', () => {
  it.each(STACKS)('%s: every object of every file', (name) => {
    const { version, docs } = rendered(name);
    const defs = definitionsFor(version);
    expect(docs.length).toBeGreaterThan(15);
    const problems = docs.flatMap(({ file, obj }) => validateObject(defs, obj).map((i) => `${file} ${obj['kind']}/${obj['metadata']?.name} ${i.path}: ${i.message}`));
    expect(problems).toEqual([]);
  });

  const defs = definitionsFor('v1.33.4');
  const deployment = () => structuredClone(rendered('metal').docs.find((d) => d.obj['kind'] === 'Deployment')!.obj);

  it('a misspelt field fails, where it is', () => {
    const d = deployment();
    const c = d['spec'].template.spec.containers[0];
    c.imagePullPolcy = c.imagePullPolicy;
    delete c.imagePullPolicy;
    expect(validateObject(defs, d)).toEqual([{ path: 'spec.template.spec.containers[0].imagePullPolcy', message: 'unknown field "imagePullPolcy"' }]);
  });

  it('a misspelt top-level or metadata field fails too', () => {
    const d = deployment();
    d['metdata'] = d['metadata'];
    d['spec'].template.metadata.lables = {};
    const paths = validateObject(defs, d).map((i) => i.path).sort();
    expect(paths).toEqual(['metdata', 'spec.template.metadata.lables']);
  });

  it('a wrong type, a missing required field, an unknown kind fail', () => {
    const d = deployment();
    d['spec'].replicas = 'two';
    delete d['spec'].selector;
    expect(validateObject(defs, d).map((i) => `${i.path}: ${i.message}`).sort()).toEqual(['spec.replicas: expected an integer, found string', 'spec.selector: required field is missing']);
    expect(validateObject(defs, { apiVersion: 'apps/v1', kind: 'Deployments', metadata: { name: 'x' } })[0]?.message).toBe('no definition of apps/v1 Deployments');
    const np = structuredClone(rendered('metal').docs.find((x) => x.obj['kind'] === 'NetworkPolicy')!.obj);
    np['spec'].podSelectr = {};
    expect(validateObject(defs, np).map((i) => i.path)).toEqual(['spec.podSelectr']);
  });

  it('maps (labels, data) take any key; int-or-string takes both', () => {
    const d = deployment();
    d['metadata'].labels['anything.example/any'] = 'x';
    d['spec'].strategy.rollingUpdate.maxUnavailable = '25%';
    expect(validateObject(defs, d)).toEqual([]);
  });
});
