/**
 * The field reference of a stack section, in Markdown, generated from its one
 * declaration. docs/stack.md holds it between marker lines; `npm run docs`
 * rewrites that block and a test fails when it is stale.
 */
import { jsonSchemaOf, type JsonSchema, type Section } from './section.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string): string => '`' + text + '`';

function typeText(s: JsonSchema): string {
  const branches = s.anyOf ?? s.oneOf;
  if (branches) return branches.map(typeText).join(' or ');
  if (s.enum) return s.enum.map((e) => code(String(e))).join(' \\| ');
  switch (s.type) {
    case 'array':
      return `list of ${s.items ? typeText(s.items) : 'values'}`;
    case 'object':
      return 'mapping';
    case 'integer': {
      const lo = s.minimum;
      const hi = s.maximum;
      return lo !== undefined && hi !== undefined ? `integer ${lo}..${hi}` : lo !== undefined ? `integer >= ${lo}` : 'integer';
    }
    default:
      return String(s.type ?? 'any');
  }
}

function defaultText(s: JsonSchema, required: boolean): string {
  if (required) return 'required';
  if (typeof s.defaultText === 'string') return s.defaultText;
  if (s.default !== undefined && !(typeof s.default === 'object' && s.default !== null && Object.keys(s.default).length === 0)) return code(JSON.stringify(s.default));
  return '';
}

/** Objects with properties, depth first: [dotted path, schema]. */
function* objects(s: JsonSchema, path: string): Generator<[string, JsonSchema]> {
  const branches = s.anyOf ?? s.oneOf;
  if (branches) {
    for (const b of branches) yield* objects(b, path);
    return;
  }
  if (s.type === 'array' && s.items) {
    yield* objects(s.items, `${path}[]`);
    return;
  }
  if (s.type !== 'object' || !s.properties) return;
  yield [path, s];
  for (const [k, v] of Object.entries(s.properties)) yield* objects(v, path ? `${path}.${k}` : k);
}

/** Markdown tables: one per mapping of the section, with type, default and meaning of each field. */
export function fieldReference(section: Section): string {
  const root = jsonSchemaOf(section);
  const out: string[] = [];
  for (const [path, s] of objects(root, '')) {
    out.push(`### ${code(path ? `${section.key}.${path}` : section.key)}`, '');
    if (s.description) out.push(s.description, '');
    out.push('| field | type | default | meaning |', '|---|---|---|---|');
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      const req = s.required?.includes(k) ?? false;
      out.push(`| ${code(k)} | ${cell(typeText(v))} | ${cell(defaultText(v, req))} | ${cell(v.description ?? '')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** Every string field and what keeps its text from changing a rendered file's structure. */
export function stringSafety(section: Section): string {
  const rows: string[] = ['| field | kept safe by |', '|---|---|'];
  const walk = (s: JsonSchema, path: string): void => {
    for (const b of s.anyOf ?? s.oneOf ?? []) walk(b, path);
    if (s.type === 'array' && s.items) walk(s.items, `${path}[]`);
    if (s.type === 'object') for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, path ? `${path}.${k}` : k);
    if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.<key>`);
    if (s.type !== 'string') return;
    const how = s.pattern
      ? `pattern ${code(s.pattern)}`
      : s.enum
        ? `one of ${s.enum.map((e) => code(String(e))).join(', ')}`
        : 'parsed as an IPv6 address or prefix by the checks; only the parsed value is written, in RFC 5952 form';
    rows.push(`| ${code(path)} | ${cell(how)} |`);
  };
  walk(jsonSchemaOf(section), '');
  return rows.join('\n');
}

export const BEGIN = (key: string): string => `<!-- BEGIN GENERATED ${key}: npm run docs -->`;
export const END = (key: string): string => `<!-- END GENERATED ${key} -->`;

/** `doc` with the block between the markers of `key` replaced by `body`. Throws when the markers are missing. */
export function replaceBlock(doc: string, key: string, body: string): string {
  const b = doc.indexOf(BEGIN(key));
  const e = doc.indexOf(END(key));
  if (b < 0 || e < b) throw new Error(`markers ${BEGIN(key)} / ${END(key)} not found`);
  return `${doc.slice(0, b + BEGIN(key).length)}\n${body.trimEnd()}\n${doc.slice(e)}`;
}
