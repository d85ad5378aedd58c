/**
 * A small interpreter for the subset of JSON Schema used by STACK_SCHEMA, which
 * reports every problem with its path instead of stopping at the first one.
 */
import type { JsonSchema } from './schema.js';

export type Path = Array<string | number>;

export interface SchemaProblem {
  kind: 'type' | 'unknown' | 'required' | 'value';
  path: Path;
  message: string;
  fix?: string;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  if (t === 'number') return actual === 'number' || actual === 'integer';
  return actual === t;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length]![b.length]!;
}

export function validateAgainst(value: unknown, schema: JsonSchema, path: Path = []): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  if (schema.oneOf) {
    // Our oneOf branches are distinguished by JSON type; pick the branch whose type matches.
    const branch = schema.oneOf.find((b) => b.type && (Array.isArray(b.type) ? b.type : [b.type]).some((t) => matchesType(value, t)));
    if (!branch) {
      const types = schema.oneOf.map((b) => b.type).join(' or ');
      out.push({ kind: 'type', path, message: `expected ${types}, found ${describe(value)}`, fix: schema.description });
      return out;
    }
    return validateAgainst(value, branch, path);
  }
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => matchesType(value, t))) {
      out.push({ kind: 'type', path, message: `expected ${types.join(' or ')}, found ${describe(value)}`, fix: schema.description });
      return out;
    }
  }
  if (schema.enum && !schema.enum.includes(value as string)) {
    const choices = schema.enum.map((e) => JSON.stringify(e)).join(', ');
    out.push({ kind: 'value', path, message: `${describe(value)} is not one of ${choices}`, fix: `use one of ${choices}${schema.description ? `: ${schema.description}` : ''}` });
  }
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
      out.push({ kind: 'value', path, message: `${describe(value)} does not match ${schema.pattern}`, fix: schema.description });
    }
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      out.push({ kind: 'value', path, message: `${describe(value)} is shorter than ${schema.minLength} characters`, fix: schema.description ?? `use at least ${schema.minLength} characters` });
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) {
      out.push({ kind: 'value', path, message: `${value} is below the minimum ${schema.minimum}`, fix: schema.description });
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      out.push({ kind: 'value', path, message: `${value} is above the maximum ${schema.maximum}`, fix: schema.description });
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      out.push({ kind: 'value', path, message: `needs at least ${schema.minItems} item(s), found ${value.length}`, fix: schema.description });
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      out.push({ kind: 'value', path, message: `allows at most ${schema.maxItems} item(s), found ${value.length}`, fix: schema.description ?? `list at most ${schema.maxItems} item(s)` });
    }
    if (schema.items) value.forEach((v, i) => out.push(...validateAgainst(v, schema.items!, [...path, i])));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = schema.properties ?? {};
    for (const req of schema.required ?? []) {
      if (!(req in obj) || obj[req] === null || obj[req] === undefined) {
        out.push({
          kind: 'required',
          path: [...path, req],
          message: `required field "${req}" is missing`,
          fix: props[req]?.description ? `add ${req}: ${props[req]!.description}` : `add ${req}`,
        });
      }
    }
    for (const [k, v] of Object.entries(obj)) {
      const sub = props[k];
      if (sub) {
        if (v === null && !(schema.required ?? []).includes(k)) {
          out.push({ kind: 'type', path: [...path, k], message: `"${k}" is empty`, fix: `give ${k} a value or remove the line` });
        } else if (v !== null) out.push(...validateAgainst(v, sub, [...path, k]));
      } else if (schema.additionalProperties === false) {
        const known = Object.keys(props);
        const guess = closest(k, known);
        out.push({
          kind: 'unknown',
          path: [...path, k],
          message: `unknown field "${k}"`,
          fix: guess ? `did you mean "${guess}"?` : `known fields here: ${known.join(', ')}`,
        });
      } else if (typeof schema.additionalProperties === 'object') {
        out.push(...validateAgainst(v, schema.additionalProperties, [...path, k]));
      }
    }
  }
  return out;
}
