/**
 * Handlebars templates under templates/<kind>/, compiled once per process.
 * An operator overlay directory (--templates DIR) wins file by file.
 *
 * Every value reaches a file safely by construction, whatever the template:
 *   {{json x}}  writes x as JSON with every non-ASCII and control character
 *               escaped: a valid scalar in JSON, YAML 1.1 and YAML 1.2.
 *   {{x}}       (a plain mustache) is rewritten at compile time into a call of
 *               a checking helper: x is written only if it is a number, a
 *               boolean or a token of [A-Za-z0-9._:/@+=-] (plus "[", "]" and
 *               "," outside YAML and JSON files). Anything else (a line break,
 *               a quote, a space, "#", ";", "{") stops the render with an error
 *               naming the template and the field, so no value can add a line
 *               to a comment, a key to YAML or a statement to a BIRD,
 *               keepalived, haproxy or sysctl file.
 *   {{{x}}}     (triple) writes raw text: flat6's templates never use it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Handlebars from 'handlebars';
import { UsageError } from '../core/diagnostics.js';
import { packageRoot } from '../core/package-root.js';
import { compileSubset, textTemplate, type Helpers, type Template } from './compile.js';
import type { FileEntry } from './files.js';
import { TextOut, type ByteOut, type Out } from './out.js';

/** templates/ of this package. */
export const BUILTIN_TEMPLATES = join(packageRoot(import.meta.url), 'templates');

/** Characters a plain {{x}} may write, by the format of the file. */
const TOKEN = {
  /** YAML and JSON: no flow indicators, so a token can never open a list or a mapping */
  structured: /^[A-Za-z0-9._:/@+=-]*$/,
  /** line-oriented configs (sysctl, BIRD, keepalived, haproxy, shell) */
  conf: /^[A-Za-z0-9._:/@+=,[\]-]*$/,
} as const;
type Format = keyof typeof TOKEN;

export function formatOf(templateName: string): Format {
  return /\.(ya?ml|json|conflist)(\.hbs)?$/.test(templateName) ? 'structured' : 'conf';
}

const PLAIN_JSON_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON text with every character outside printable ASCII escaped (\uXXXX): safe in JSON and in YAML double quotes. */
export function asciiJson(v: unknown): string {
  // Fast path, same bytes: JSON.stringify of a string of printable ASCII without " or \ is that string in quotes.
  if (typeof v === 'string' && PLAIN_JSON_STRING.test(v)) return `"${v}"`;
  const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  if ((text as string | undefined) === undefined) throw new TypeError('value has no JSON form');
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class TemplateValueError extends UsageError {}

function token(value: unknown, format: Format, field: string, template: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string' && TOKEN[format].test(value)) return value;
  const what = typeof value === 'string' ? `${asciiJson(value)} has characters a plain {{${field}}} may not write into this file` : `{{${field}}} is ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`;
  throw new TemplateValueError(`template ${template}: ${what}; write {{json ${field}}} to quote it (allowed as a plain token: ${TOKEN[format].source})`);
}

type HbNode = { type: string; [k: string]: unknown };

/** Rewrite every plain {{path}} into {{flat6token path "format" "path" "template"}}. */
function guardMustaches(node: unknown, format: Format, template: string): void {
  if (Array.isArray(node)) {
    for (const n of node) guardMustaches(n, format, template);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const n = node as HbNode;
  if (n.type === 'MustacheStatement' && n['escaped'] === true && (n['params'] as unknown[]).length === 0 && !n['hash']) {
    const path = n['path'] as HbNode;
    const loc = n['loc'];
    const str = (value: string): HbNode => ({ type: 'StringLiteral', value, original: value, loc });
    const original = typeof path['original'] === 'string' ? path['original'] : typeof path['value'] === 'string' ? path['value'] : '?';
    n['params'] = [path, str(format), str(original), str(template)];
    n['path'] = { type: 'PathExpression', data: false, depth: 0, parts: ['flat6token'], original: 'flat6token', loc };
    return;
  }
  for (const key of ['body', 'program', 'inverse']) {
    const child = n[key];
    if (child) guardMustaches(child, format, template);
  }
}

type HandlebarsEnv = ReturnType<typeof Handlebars.create>;
let hbEnv: HandlebarsEnv | undefined;

/** Handlebars with flat6's helpers, loaded on first use: a render of the bundled templates from the build's cache never needs it. */
function handlebars(): HandlebarsEnv {
  if (!hbEnv) {
    const H = createRequire(import.meta.url)('handlebars') as typeof Handlebars;
    const hb = H.create();
    hb.registerHelper('json', (v: unknown) => new hb.SafeString(asciiJson(v)));
    hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    hb.registerHelper('flat6token', (v: unknown, format: Format, field: string, template: string) => token(v, format, field, template));
    hbEnv = hb;
  }
  return hbEnv;
}

/** The same helpers for templates compiled by src/render/compile.ts (json writes the escaped text itself). */
const SUBSET_HELPERS: Helpers = {
  json: (v) => asciiJson(v),
  eq: (a, b) => a === b,
  flat6token: (v, format, field, template) => token(v, format as Format, field as string, template as string),
};

/** Template templates by path, with the source they were compiled from: a template edited since is compiled again. */
const compiled = new Map<string, { source: string; t: Template }>();

/**
 * The build's template cache (scripts/template-cache.mjs writes it beside the
 * compiled module): per bundled template, its source and the AST the subset
 * compiler takes. An entry is used only when the source is exactly the one
 * being compiled, so an edited template is parsed afresh.
 */
export const TEMPLATE_CACHE = 'templates.cache.json';
type CacheEntry = { source: string; ast: unknown };
let cache: Record<string, CacheEntry | undefined> | null | undefined;

/** dist/render/templates.cache.json, read by the compiled modules and the bundle alike; none when running from src/. */
function templateCacheFile(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts') ? join(dirname(here), TEMPLATE_CACHE) : join(packageRoot(import.meta.url), 'dist', 'render', TEMPLATE_CACHE);
}

function cachedAst(source: string, name: string): unknown {
  if (cache === undefined) {
    try {
      cache = JSON.parse(readFileSync(templateCacheFile(), 'utf8')) as Record<string, CacheEntry>;
    } catch {
      cache = null; // running from src/, or a build without the cache
    }
  }
  const e = cache?.[name];
  return e !== undefined && e.source === source ? e.ast : undefined;
}

/**
 * Compile a template's source: parsed by Handlebars, plain mustaches guarded,
 * then compiled by src/render/compile.ts when it stays in that subset (every
 * bundled template does), else by Handlebars itself. A bundled template whose
 * processed AST the build cached skips Handlebars altogether.
 */
export function compileTemplate(source: string, name: string): Template {
  const hit = cachedAst(source, name);
  if (hit !== undefined) {
    const fast = compileProcessed(hit);
    if (fast) return fast;
  }
  const ast = parseGuarded(source, name);
  return compileSubsetOf(ast) ?? textTemplate(handlebars().compile(ast, HB_OPTIONS));
}

/** A template's AST with every plain mustache guarded (what both compilers start from). */
export function parseGuarded(source: string, name: string): hbs.AST.Program {
  const ast = handlebars().parse(source);
  guardMustaches(ast.body, formatOf(name), name);
  return ast;
}

/**
 * What the subset compiler reads: the guarded AST after the second pass of
 * whitespace control that Handlebars.compile gives an AST it is handed.
 */
export function subsetAst(ast: hbs.AST.Program): hbs.AST.Program {
  return handlebars().parse(structuredClone(ast) as unknown as string);
}

/** The subset compiler's function for an AST as subsetAst makes it (or the cache holds it). */
export function compileProcessed(ast: unknown): Template | undefined {
  return compileSubset(ast, SUBSET_HELPERS);
}

/** The subset compiler's function for a guarded AST, or undefined when the template leaves the subset. */
export function compileSubsetOf(ast: hbs.AST.Program): Template | undefined {
  return compileSubset(subsetAst(ast), SUBSET_HELPERS);
}

const HB_OPTIONS = { noEscape: true, strict: true, knownHelpers: { json: true, eq: true, flat6token: true } } as const;

/** The template compiled by Handlebars alone (what compileTemplate must equal; tests compare the two). */
export function compileWithHandlebars(source: string, name: string): (context: object) => string {
  return handlebars().compile(parseGuarded(source, name), HB_OPTIONS);
}

/**
 * A file rendered into a ByteOut (TemplateSet.file while a sink is set): its
 * bytes are sink.buf[start, end); its text is decoded only if asked for.
 */
export class SinkFile implements FileEntry {
  constructor(
    public path: string,
    readonly mode: number,
    readonly sink: ByteOut,
    readonly start: number,
    readonly end: number,
  ) {}
  get content(): string {
    return this.sink.text(this.start, this.end);
  }
}

export class TemplateSet {
  readonly overlay?: string;
  constructor(overlay?: string) {
    if (overlay !== undefined) {
      let isDir = false;
      try {
        isDir = statSync(overlay).isDirectory();
      } catch {
        throw new UsageError(`template overlay directory ${overlay} does not exist`);
      }
      if (!isDir) throw new UsageError(`template overlay ${overlay} is not a directory; --templates takes a directory laid out like templates/ (e.g. DIR/netplan/60-flat6.yaml.hbs)`);
      this.overlay = resolve(overlay);
    }
  }

  /** Path of a template such as "netplan/60-flat6.yaml.hbs": the overlay's copy if it has one. */
  resolvePath(name: string): string {
    if (this.overlay) {
      const p = join(this.overlay, name);
      if (existsSync(p)) return p;
    }
    return join(BUILTIN_TEMPLATES, name);
  }

  /** true when the overlay replaces this template */
  isOverlaid(name: string): boolean {
    if (this.overlay === undefined) return false;
    const known = this.byName.get(name);
    return (known ? known[0] : this.resolvePath(name)) !== join(BUILTIN_TEMPLATES, name);
  }

  /** template name -> [path, compiled], so the hot path neither joins paths nor looks at the overlay again */
  private readonly byName = new Map<string, [string, Template]>();

  /**
   * While set, file() renders into these bytes (a directory render's unit,
   * src/render/units.ts collect) rather than into strings.
   */
  sink: ByteOut | undefined;

  /**
   * A rendered file: into the sink if one is set (a SinkFile), else its text.
   * The template sees `shared`'s properties besides the context's own: an
   * object a renderer hands every host unchanged (its cluster-wide values),
   * for which the template is specialised once (Template.specialize), so
   * what depends on those alone is fixed text rather than looked up, checked
   * and written again for every host. The two must not share a key.
   */
  file(path: string, mode: number, name: string, context: object, shared?: object): FileEntry {
    const sink = this.sink;
    if (sink === undefined) return { path, mode, content: this.render(name, context, shared) };
    const start = sink.off;
    try {
      this.write(name, context, sink, shared);
    } catch (e) {
      sink.off = start; // a refused value leaves nothing behind
      throw e;
    }
    return new SinkFile(path, mode, sink, start, sink.off);
  }

  render(name: string, context: object, shared?: object): string {
    const out = new TextOut();
    this.write(name, context, out, shared);
    return out.s;
  }

  /** Write template `name` for `context` into `out` (compiling it on first use in this set). */
  private write(name: string, context: object, out: Out, shared?: object): void {
    const known = this.byName.get(name);
    const path = known ? known[0] : this.resolvePath(name);
    let t = known?.[1];
    if (!t) {
      // read once per set, so an edited template is never rendered from an older compile
      let source: string;
      try {
        source = readFileSync(path, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read template ${path}: ${(e as Error).message}`);
      }
      const hit = compiled.get(path);
      if (hit && hit.source === source) t = hit.t;
      else {
        try {
          t = compileTemplate(source, name);
        } catch (e) {
          throw new UsageError(`template ${path}: ${(e as Error).message.split('\n').slice(0, 4).join(' ')}`);
        }
        compiled.set(path, { source, t });
      }
      this.byName.set(name, [path, t]);
    }
    if (shared !== undefined) {
      const special = t.specialize?.(shared);
      if (special) t = special;
      else context = { ...shared, ...context };
    }
    try {
      t.into(context, out);
    } catch (e) {
      if (e instanceof TemplateValueError) throw e;
      // Compilation is lazy in Handlebars: syntax errors and unknown fields both surface here.
      throw new UsageError(`template ${path}: ${(e as Error).message.split('\n').slice(0, 4).join(' ')}`);
    }
  }
}
