/**
 * The walker: checks one parsed document against the schema of its apiVersion and kind, and
 * reports every issue with its path (for people) and its keys (to find the node in the YAML).
 */
import { closest } from '../core/closest.js';
import type { JsonObject, ObjT, Report, SchemaIssue, TypeDesc } from './dsl.js';
import { clusterConfiguration, initConfiguration, joinConfiguration, resetConfiguration, upgradeConfiguration } from './kubeadm.js';
import { kubeletConfiguration } from './kubelet.js';
import { kubeProxyConfiguration } from './kubeproxy.js';
import { isPlainObject, jsonType } from './values.js';

// ---------------------------------------------------------------------------------------------
// Registry of kinds
// ---------------------------------------------------------------------------------------------

export const SCHEMAS: Readonly<Record<string, Readonly<Record<string, ObjT>>>> = {
  'kubeadm.k8s.io/v1beta4': {
    InitConfiguration: initConfiguration,
    ClusterConfiguration: clusterConfiguration,
    JoinConfiguration: joinConfiguration,
    ResetConfiguration: resetConfiguration,
    UpgradeConfiguration: upgradeConfiguration,
  },
  'kubelet.config.k8s.io/v1beta1': { KubeletConfiguration: kubeletConfiguration },
  'kubeproxy.config.k8s.io/v1alpha1': { KubeProxyConfiguration: kubeProxyConfiguration },
};

/** Known but unusable apiVersions: what is wrong, and what to write instead. */
const RETIRED_API_VERSIONS: Readonly<Record<string, readonly [string, string]>> = {
  'kubeadm.k8s.io/v1beta3': ['kubeadm.k8s.io/v1beta3 is deprecated', 'write kubeadm.k8s.io/v1beta4 (extraArgs become lists of {name, value})'],
  'kubeadm.k8s.io/v1beta2': ['kubeadm.k8s.io/v1beta2 is no longer supported (removed in kubeadm v1.27)', 'use kubeadm.k8s.io/v1beta4'],
  'kubeadm.k8s.io/v1beta1': ['kubeadm.k8s.io/v1beta1 is no longer supported', 'use kubeadm.k8s.io/v1beta4'],
  'kubeadm.k8s.io/v1alpha3': ['kubeadm.k8s.io/v1alpha3 is no longer supported', 'use kubeadm.k8s.io/v1beta4'],
};

/** Fields that moved between API versions, reported with a pointer to their new home. */
const MOVED_FIELDS: Readonly<Record<string, string>> = {
  'APIServer.timeoutForControlPlane':
    'timeoutForControlPlane was removed in v1beta4; use timeouts.controlPlaneComponentHealthCheck in InitConfiguration/JoinConfiguration',
};

/** For "misplaced field" hints: every field name in a kind's tree → the paths where it is valid. */
const FIELD_INDEX = new Map<ObjT, Map<string, string[]>>();
function indexFields(root: ObjT): Map<string, string[]> {
  const idx = FIELD_INDEX.get(root);
  if (idx) return idx;
  const built = new Map<string, string[]>();
  const visit = (t: TypeDesc, path: string, depth: number): void => {
    if (depth > 8) return;
    if (t.t === 'object') {
      for (const [k, sub] of Object.entries(t.fields)) {
        const p = path ? `${path}.${k}` : k;
        built.set(k, [...(built.get(k) ?? []), p]);
        visit(sub, p, depth + 1);
      }
    } else if (t.t === 'list') visit(t.item, `${path}[]`, depth + 1);
    else if (t.t === 'map') visit(t.value, `${path}[*]`, depth + 1);
  };
  visit(root, '', 0);
  FIELD_INDEX.set(root, built);
  return built;
}

// ---------------------------------------------------------------------------------------------
// The walker
// ---------------------------------------------------------------------------------------------

type Seg = string | number;

interface Ctx {
  out: SchemaIssue[];
  root: ObjT;
  /** Path of the root object inside the document tree, relative paths are computed from it. */
  rootPath: string;
}

function describe(t: TypeDesc): string {
  switch (t.t) {
    case 'string':
      return t.label ?? 'string';
    case 'bool':
      return 'boolean';
    case 'int':
      return t.label;
    case 'float':
      return t.label;
    case 'list':
      return `list of ${describe(t.item)}`;
    case 'map':
      return `map of ${describe(t.value)}`;
    case 'object':
      return `${t.name} object`;
    case 'anyOf':
      return t.label;
    case 'opaque':
      return t.label;
  }
}

function matchesJsonType(t: TypeDesc, v: unknown): boolean {
  switch (t.t) {
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'float':
      return typeof v === 'number';
    case 'list':
      return Array.isArray(v);
    case 'map':
    case 'object':
    case 'opaque':
      return isPlainObject(v);
    case 'anyOf':
      return t.options.some((o) => matchesJsonType(o, v));
  }
}

function joinPath(base: string, sub: string): string {
  if (!sub) return base;
  return sub.startsWith('[') ? `${base}${sub}` : `${base}.${sub}`;
}

/** "networking.podSubnet" → ["networking", "podSubnet"]; "endpoints[0]" → ["endpoints", 0]. */
function segments(sub: string): Seg[] {
  return [...sub.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => ((m[2] as string | undefined) !== undefined ? Number(m[2]) : m[1]));
}

function issue(path: string, at: readonly Seg[], message: string, hint?: string, key?: boolean): SchemaIssue {
  const i: SchemaIssue = { path, message, at };
  if (hint) i.hint = hint;
  if (key) i.key = true;
  return i;
}

function reporter(ctx: Ctx, path: string, at: readonly Seg[]): Report {
  return (message, sub, hint) => ctx.out.push(issue(joinPath(path, sub ?? ''), sub ? [...at, ...segments(sub)] : at, message, hint));
}

function walk(t: TypeDesc, v: unknown, path: string, at: readonly Seg[], ctx: Ctx): void {
  const report = reporter(ctx, path, at);
  if (v === null) {
    // flat6: Go would decode null as the zero value, which hides rendering bugs; omit the field.
    report(`null is not allowed (expected ${describe(t)})`, undefined, 'omit the field instead');
    return;
  }
  if (!matchesJsonType(t, v)) {
    report(`expected ${describe(t)}, got ${jsonType(v)}`, undefined, t.t === 'list' ? t.notListHint : undefined);
    return;
  }
  switch (t.t) {
    case 'string': {
      const s = v as string;
      if (s === '') {
        if (t.nonEmpty) report('must not be empty');
        return;
      }
      if (t.enum && !t.enum.includes(s)) {
        const options = t.enum.filter((e) => e !== '');
        const near = closest(s, options);
        report(`"${s}" is not one of ${options.map((e) => `"${e}"`).join(', ')}`, undefined, near ? `did you mean "${near}"?` : undefined);
        return;
      }
      for (const c of t.checks ?? []) c(s, report);
      return;
    }
    case 'int': {
      const n = v as number;
      if (n < t.min || n > t.max) report(`${n} is out of range, expected ${describe(t)}`);
      return;
    }
    case 'float':
      for (const c of t.checks ?? []) c(v as number, report);
      return;
    case 'bool':
    case 'opaque':
      return;
    case 'anyOf': {
      const opt = t.options.find((o) => matchesJsonType(o, v))!;
      walk(opt, v, path, at, ctx);
      return;
    }
    case 'list': {
      const arr = v as unknown[];
      arr.forEach((item, i) => { walk(t.item, item, `${path}[${i}]`, [...at, i], ctx); });
      for (const c of t.checks ?? []) c(arr, report);
      return;
    }
    case 'map': {
      for (const [k, val] of Object.entries(v as JsonObject)) {
        const p = `${path}[${JSON.stringify(k)}]`;
        const kat = [...at, k];
        for (const c of t.keyChecks ?? []) c(k, (message, _sub, hint) => ctx.out.push(issue(p, kat, message, hint, true)));
        walk(t.value, val, p, kat, ctx);
      }
      return;
    }
    case 'object': {
      const o = v as JsonObject;
      for (const [k, val] of Object.entries(o)) {
        const sub = Object.hasOwn(t.fields, k) ? t.fields[k] : undefined;
        if (sub) walk(sub, val, `${path}.${k}`, [...at, k], ctx);
        else {
          const { message, hint } = unknownField(t, k, ctx);
          ctx.out.push(issue(joinPath(path, k), [...at, k], message, hint, true));
        }
      }
      for (const [k, sub] of Object.entries(t.fields)) {
        if (sub.required && !Object.hasOwn(o, k)) ctx.out.push(issue(joinPath(path, k), [...at, k], `required field "${k}" is missing`));
      }
      for (const c of t.checks ?? []) c(o, report);
      return;
    }
  }
}

function unknownField(t: ObjT, key: string, ctx: Ctx): { message: string; hint?: string } {
  const message = `unknown field "${key}" in ${t.name}`;
  const moved = MOVED_FIELDS[`${t.name}.${key}`];
  if (moved) return { message, hint: moved };
  const near = closest(key, Object.keys(t.fields));
  if (near) return { message, hint: `did you mean "${near}"?` };
  const elsewhere = indexFields(ctx.root).get(key);
  if (elsewhere && elsewhere.length > 0) {
    return { message, hint: `"${key}" belongs at ${elsewhere.map((p) => `${ctx.rootPath}.${p}`).join(' or ')}` };
  }
  return { message };
}

// ---------------------------------------------------------------------------------------------
// One document
// ---------------------------------------------------------------------------------------------

export interface Identified {
  issues: SchemaIssue[];
  /** Kind name, when the document names one. */
  kind?: string;
  /** Path prefix used for this document's issues. */
  label: string;
  schema?: ObjT;
}

/** Finds the schema for a document from its apiVersion and kind, or says why there is none. */
export function identify(doc: unknown, fallbackLabel: string): Identified {
  if (!isPlainObject(doc)) {
    const hint = doc === null || doc === undefined ? 'every document needs apiVersion and kind; remove the empty document' : undefined;
    return { label: fallbackLabel, issues: [issue(fallbackLabel, [], `expected a mapping document, got ${jsonType(doc)}`, hint)] };
  }
  const kind = typeof doc.kind === 'string' && doc.kind !== '' ? doc.kind : undefined;
  const label = kind ?? fallbackLabel;
  const issues: SchemaIssue[] = [];
  const apiVersion = doc.apiVersion;
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    issues.push(issue(`${label}.apiVersion`, ['apiVersion'], 'apiVersion is required (a string such as "kubeadm.k8s.io/v1beta4")'));
  }
  if (kind === undefined) {
    issues.push(issue(`${label}.kind`, ['kind'], 'kind is required (a non-empty string)'));
  }
  if (issues.length > 0 || typeof apiVersion !== 'string' || kind === undefined) return { label, kind, issues };

  const retired = Object.hasOwn(RETIRED_API_VERSIONS, apiVersion) ? RETIRED_API_VERSIONS[apiVersion] : undefined;
  if (retired) return { label, kind, issues: [issue(`${label}.apiVersion`, ['apiVersion'], retired[0], retired[1])] };

  const group = Object.hasOwn(SCHEMAS, apiVersion) ? SCHEMAS[apiVersion] : undefined;
  if (!group) {
    const owners = Object.entries(SCHEMAS)
      .filter(([, kinds]) => Object.hasOwn(kinds, kind))
      .map(([v]) => v);
    const hint = owners.length > 0 ? `${kind} is served as ${owners.join(', ')}` : undefined;
    return { label, kind, issues: [issue(`${label}.apiVersion`, ['apiVersion'], `unknown apiVersion "${apiVersion}"`, hint)] };
  }
  const schema = Object.hasOwn(group, kind) ? group[kind] : undefined;
  if (!schema) {
    const lower = kind.toLowerCase();
    const owner = Object.entries(SCHEMAS).find(([, kinds]) => Object.hasOwn(kinds, kind))?.[0];
    const near = closest(kind, Object.keys(group)) ?? Object.keys(group).find((k) => k.toLowerCase().startsWith(lower));
    const hint = owner
      ? `${kind} belongs to apiVersion ${owner}`
      : near
        ? `did you mean "${near}"?`
        : `expected one of ${Object.keys(group).join(', ')}`;
    return { label, kind, issues: [issue(`${label}.kind`, ['kind'], `unknown kind "${kind}" for ${apiVersion}`, hint)] };
  }
  return { label, kind, issues, schema };
}

export function validateIdentified(id: Identified, doc: unknown): SchemaIssue[] {
  if (!id.schema) return id.issues;
  const ctx: Ctx = { out: [...id.issues], root: id.schema, rootPath: id.label };
  walk(id.schema, doc, id.label, [], ctx);
  return ctx.out;
}

/**
 * Validates one Kubernetes config document (already parsed from YAML/JSON). Dispatches on
 * apiVersion + kind; an unknown, deprecated or missing apiVersion/kind is an issue. Issue paths
 * start with the kind, e.g. "ClusterConfiguration.networking.podSubnet".
 */
export function validateKubeDocument(doc: unknown): SchemaIssue[] {
  const id = identify(doc, '(document)');
  return validateIdentified(id, doc);
}
