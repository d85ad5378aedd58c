/**
 * A stack section (`flat6:cluster`, `flat6:aws`, ...) is declared once, as a
 * zod schema. From that one declaration come:
 *   - its TypeScript type (z.output: defaults applied),
 *   - its JSON Schema (`flat6 schema`), with descriptions and defaults,
 *   - validation with every problem reported at once, each with its path
 *     (which src/spec/load.ts turns into file:line:col) and a fix,
 *   - the field reference tables of docs/stack.md (src/spec/docs.ts).
 */
import { z } from 'zod';
import { closest } from '../core/closest.js';

export type Path = Array<string | number>;

export interface SchemaProblem {
  kind: 'type' | 'unknown' | 'required' | 'value';
  path: Path;
  message: string;
  fix?: string;
}

/** The subset of JSON Schema that flat6's sections produce (what the docs and the problem messages read). */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  /** flat6 extension: how a computed default reads in the docs */
  defaultText?: string;
  examples?: unknown[];
  [k: string]: unknown;
}

export interface Section<S extends z.ZodType = z.ZodType> {
  /** the config key, e.g. flat6:cluster */
  readonly key: string;
  readonly schema: S;
  /** JSON Schema id and description */
  readonly id: string;
  readonly description: string;
}

export function defineSection<S extends z.ZodType>(key: string, schema: S, opts: { id: string; description: string }): Section<S> {
  return { key, schema, ...opts };
}

const jsonCache = new WeakMap<Section, JsonSchema>();

/** The section's JSON Schema (draft 2020-12) as a stack file is written: defaults optional. */
export function jsonSchemaOf(section: Section): JsonSchema {
  let s = jsonCache.get(section);
  if (!s) {
    const body = z.toJSONSchema(section.schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'throw' }) as JsonSchema;
    s = tidy({ ...body, $schema: 'https://json-schema.org/draft/2020-12/schema', $id: section.id, title: section.key, description: section.description });
    jsonCache.set(section, s);
  }
  return s;
}

/** zod writes the safe-integer range on every integer; keep only the bounds a field really has. */
function tidy(s: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'minimum' && v === Number.MIN_SAFE_INTEGER) continue;
    if (k === 'maximum' && v === Number.MAX_SAFE_INTEGER) continue;
    if (k === 'properties' && v && typeof v === 'object') {
      out.properties = Object.fromEntries(Object.entries(v as Record<string, JsonSchema>).map(([n, p]) => [n, tidy(p)]));
    } else if ((k === 'items' || k === 'additionalProperties') && v && typeof v === 'object') {
      out[k] = tidy(v as JsonSchema);
    } else if ((k === 'anyOf' || k === 'oneOf') && Array.isArray(v)) {
      out[k] = (v as JsonSchema[]).map(tidy);
    } else out[k] = v;
  }
  return out;
}

export type Checked<S extends z.ZodType> = { ok: true; value: z.output<S> } | { ok: false; problems: SchemaProblem[] };

/** Validate a section's value; every problem at once, each with its path and a fix. */
export function checkSection<S extends z.ZodType>(section: Section<S>, value: unknown): Checked<S> {
  const r = section.schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const json = jsonSchemaOf(section);
  const problems: SchemaProblem[] = [];
  for (const issue of r.error.issues) problems.push(...toProblems(issue, [], value, json));
  return { ok: false, problems: dedupe(problems) };
}

function dedupe(ps: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.kind}|${p.path.join('.')}|${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The value at `path` inside `root` (own properties only). */
function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    if (!Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

export function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typesOf(s: JsonSchema): string[] {
  if (s.type) return Array.isArray(s.type) ? s.type : [s.type];
  if (s.enum) return [...new Set(s.enum.map(jsonTypeOf))];
  if (s.const !== undefined) return [jsonTypeOf(s.const)];
  return [];
}

function fitsType(v: unknown, types: string[]): boolean {
  const t = jsonTypeOf(v);
  return types.some((x) => x === t || (x === 'number' && t === 'integer'));
}

/** The JSON Schema that describes `path`, following the union branch that fits the data. */
function schemaAt(root: JsonSchema, data: unknown, path: Path): { node?: JsonSchema; parent?: JsonSchema } {
  let node: JsonSchema | undefined = pick(root, data);
  let parent: JsonSchema | undefined;
  let v = data;
  for (const seg of path) {
    if (!node) return {};
    parent = node;
    const next: JsonSchema | undefined = typeof seg === 'number' ? node.items : (node.properties && Object.hasOwn(node.properties, seg) ? node.properties[seg] : undefined);
    v = valueAt(v, [seg]);
    node = next ? pick(next, v) : undefined;
  }
  return { node, parent };
}

function pick(s: JsonSchema, v: unknown): JsonSchema {
  const branches = s.anyOf ?? s.oneOf;
  if (!branches) return s;
  const fit = branches.find((b) => fitsType(v, typesOf(b)));
  return fit ? { ...fit, description: fit.description ?? s.description } : s;
}

/** How a value reads in a message. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v as string | number | boolean | bigint | symbol);
}

/**
 * A string as a message shows it: JSON-quoted with control and non-ASCII
 * characters escaped (a terminal shows exactly what is in the file), and cut
 * after 120 characters.
 */
export function quote(text: string): string {
  const cut = text.length > 120 ? text.slice(0, 120) : text;
  const q = JSON.stringify(cut).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > 120 ? `${q.slice(0, -1)}..." (${text.length} characters)` : q;
}

function typeWord(t: string): string {
  return t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : t;
}

function lastKey(path: Path): string {
  return String(path[path.length - 1] ?? '');
}

function toProblems(issue: z.core.$ZodIssue, base: Path, root: unknown, json: JsonSchema): SchemaProblem[] {
  const path = [...base, ...(issue.path as Path)];
  const value = valueAt(root, path);
  const { node, parent } = schemaAt(json, root, path);
  const fix = node?.description;
  switch (issue.code) {
    case 'invalid_type': {
      const present = path.length === 0 || Object.hasOwn((valueAt(root, path.slice(0, -1)) ?? {}) as object, lastKey(path));
      const required = parent?.required?.includes(lastKey(path)) ?? false;
      if (!present || (value === null && required)) {
        const key = lastKey(path);
        return [{ kind: 'required', path, message: `required field "${key}" is missing`, fix: fix ? `add ${key}: ${fix}` : `add ${key}` }];
      }
      if (value === null) {
        const key = lastKey(path);
        return [{ kind: 'type', path, message: `"${key}" is empty`, fix: `give ${key} a value or remove the line` }];
      }
      const expected = node ? typesOf(node) : [issue.expected];
      return [{ kind: 'type', path, message: `expected ${expected.map(typeWord).join(' or ')}, found ${describeValue(value)}`, fix }];
    }
    case 'unrecognized_keys': {
      const known = Object.keys(node?.properties ?? {});
      return issue.keys.map((k) => {
        const guess = closest(k, known);
        return {
          kind: 'unknown' as const,
          path: [...path, k],
          message: `unknown field ${quote(k)}`,
          fix: guess ? `did you mean "${guess}"?` : `known fields here: ${known.join(', ')}`,
        };
      });
    }
    case 'invalid_union': {
      // Union branches differ by JSON type: report the branch whose type fits the value.
      const branches = issue.errors;
      const fitting = branches.filter((errs) => !errs.some((e) => e.code === 'invalid_type' && e.path.length === 0));
      if (fitting.length === 0 || fitting.length === branches.length) {
        const types = node?.anyOf ?? node?.oneOf ?? [];
        const names = [...new Set(types.flatMap(typesOf))].map(typeWord);
        if (fitting.length === 0) return [{ kind: 'type', path, message: `expected ${names.join(' or ')}, found ${describeValue(value)}`, fix }];
      }
      return fitting[0].flatMap((e) => toProblems(e, path, root, json));
    }
    case 'invalid_value': {
      const choices = issue.values.map((e) => JSON.stringify(e)).join(', ');
      return [{ kind: 'value', path, message: `${describeValue(value)} is not one of ${choices}`, fix: `use one of ${choices}${fix ? `: ${fix}` : ''}` }];
    }
    case 'invalid_format':
      return [{ kind: 'value', path, message: `${describeValue(value)} ${issue.message}`, fix }];
    case 'too_big':
    case 'too_small': {
      const big = issue.code === 'too_big';
      const bound = (issue as { maximum?: number | bigint; minimum?: number | bigint }).maximum ?? (issue as { minimum?: number | bigint }).minimum;
      if (issue.origin === 'array') {
        const n = Array.isArray(value) ? value.length : 0;
        return [{ kind: 'value', path, message: big ? `allows at most ${bound} item(s), found ${n}` : `needs at least ${bound} item(s), found ${n}`, fix }];
      }
      if (issue.origin === 'string') {
        return [{ kind: 'value', path, message: `${describeValue(value)} is ${big ? `longer than ${bound}` : `shorter than ${bound}`} characters`, fix }];
      }
      if (typeof value === 'number' && !Number.isSafeInteger(value) && Number.isInteger(value)) {
        return [{ kind: 'value', path, message: `${value} is too large to be read exactly (integers must stay within ±(2^53 - 1))`, fix: fix ?? 'use a smaller number' }];
      }
      return [{ kind: 'value', path, message: `${describeValue(value)} is ${big ? 'above the maximum' : 'below the minimum'} ${bound}`, fix }];
    }
    default:
      return [{ kind: 'value', path, message: `${describeValue(value)}: ${issue.message}`, fix }];
  }
}
