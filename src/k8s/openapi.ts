/**
 * Structural validation of Kubernetes objects against the API's OpenAPI (v2)
 * definitions, as the API server's strict field validation sees them: every
 * field must be declared (a misspelt field is an error, not silently
 * dropped), required fields present, and each value of its declared type.
 * Pure; the definitions are handed in (tests keep the part of the upstream
 * spec the add-ons use under test/fixtures/k8s-openapi/).
 */

export interface OpenApiSchema {
  type?: string;
  format?: string;
  $ref?: string;
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: OpenApiSchema | boolean;
  items?: OpenApiSchema;
  required?: string[];
  'x-kubernetes-group-version-kind'?: Array<{ group: string; version: string; kind: string }>;
  [k: string]: unknown;
}

export type Definitions = Record<string, OpenApiSchema>;

export interface SchemaIssue {
  /** JSON path of the offending value, e.g. spec.template.spec.containers[0].imagePullPolicy */
  path: string;
  message: string;
}

/** The definition of an apiVersion/kind, found by its x-kubernetes-group-version-kind. */
export function definitionOf(defs: Definitions, apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  for (const [name, d] of Object.entries(defs)) {
    if (d['x-kubernetes-group-version-kind']?.some((g) => g.group === group && g.version === version && g.kind === kind)) return name;
  }
  return undefined;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const INT_RANGE: Record<string, [number, number]> = { int32: [-(2 ** 31), 2 ** 31 - 1], int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] };

/** Every problem of `obj` against the definitions; empty when it validates. */
export function validateObject(defs: Definitions, obj: unknown): SchemaIssue[] {
  const o = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof o?.apiVersion !== 'string' || typeof o.kind !== 'string') return [{ path: '', message: 'an object needs apiVersion and kind strings' }];
  const root = definitionOf(defs, o.apiVersion, o.kind);
  if (!root) return [{ path: 'kind', message: `no definition of ${o.apiVersion} ${o.kind}` }];
  const issues: SchemaIssue[] = [];
  walk(defs, { $ref: `#/definitions/${root}` }, obj, '', issues);
  return issues;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function walk(defs: Definitions, schema: OpenApiSchema, v: unknown, path: string, issues: SchemaIssue[]): void {
  let s = schema;
  for (let depth = 0; s.$ref; depth++) {
    const name = s.$ref.replace('#/definitions/', '');
    const next = defs[name];
    if (!next || depth > 50) return void issues.push({ path, message: `definition ${name} is missing` });
    s = next;
  }
  const t = typeOf(v);
  if (s.format === 'int-or-string') {
    if (t !== 'string' && t !== 'integer') issues.push({ path, message: `expected an integer or a string, found ${t}` });
    return;
  }
  switch (s.type) {
    case 'object': {
      if (t !== 'object') return void issues.push({ path, message: `expected an object, found ${t}` });
      const rec = v as Record<string, unknown>;
      for (const r of s.required ?? []) if (!Object.hasOwn(rec, r)) issues.push({ path: join(path, r), message: 'required field is missing' });
      for (const [k, x] of Object.entries(rec)) {
        const p = s.properties && Object.hasOwn(s.properties, k) ? s.properties[k] : undefined;
        if (p) walk(defs, p, x, join(path, k), issues);
        else if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(defs, s.additionalProperties, x, join(path, k), issues);
        else if (!s.properties && s.additionalProperties === undefined) continue; // a free-form object
        else issues.push({ path: join(path, k), message: `unknown field "${k}"` });
      }
      return;
    }
    case 'array':
      if (t !== 'array') return void issues.push({ path, message: `expected an array, found ${t}` });
      (v as unknown[]).forEach((x, i) => s.items && walk(defs, s.items, x, `${path}[${i}]`, issues));
      return;
    case 'string':
      if (t !== 'string') issues.push({ path, message: `expected a string, found ${t}` });
      return;
    case 'boolean':
      if (t !== 'boolean') issues.push({ path, message: `expected a boolean, found ${t}` });
      return;
    case 'integer': {
      if (t !== 'integer') return void issues.push({ path, message: `expected an integer, found ${t}` });
      const range = s.format ? INT_RANGE[s.format] : undefined;
      if (range && ((v as number) < range[0] || (v as number) > range[1])) issues.push({ path, message: `${String(v)} is out of the ${s.format} range` });
      return;
    }
    case 'number':
      if (t !== 'integer' && t !== 'number') issues.push({ path, message: `expected a number, found ${t}` });
      return;
    default:
      return; // no type: any value (e.g. RawExtension, JSON)
  }
}
