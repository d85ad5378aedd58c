/**
 * A direct compiler for the Handlebars subset flat6's templates use: text,
 * comments, the helpers json, eq and flat6token (the guard of plain
 * mustaches, src/render/templates.ts), and the blocks if, unless and each
 * (with else, ../ and @index/@first/@last/@key/@root). It takes the AST
 * Handlebars itself parses, so whitespace control is Handlebars' own, and
 * evaluates it with Handlebars 4.7's semantics, statement for statement:
 * what is true for `if`, how `each` walks arrays, iterables and objects,
 * when `../` gains a level, own-property lookups, null and undefined written
 * as nothing. It skips Handlebars' per-call set-up (helper tables, prototype
 * access control), which dominated rendering a host.
 *
 * Anything outside the subset (partials, hashes, block parameters, other
 * helpers, triple-stash lookups, data beyond the current frame) makes
 * `compileSubset` return undefined, and the caller compiles with Handlebars.
 * test/compile.test.ts checks the two agree on every bundled template and on
 * random templates and contexts.
 */

import { lit, TextOut, type Lit, type Out } from './out.js';

/** The helpers a compiled template may call, by name. */
export type Helpers = Readonly<Record<'json' | 'eq' | 'flat6token', (...args: unknown[]) => unknown>>;

interface Frame {
  ctx: unknown;
  /** enclosing contexts, innermost first (depths[0] === ctx); only kept when the template uses ../ */
  depths: unknown[] | undefined;
  data: Record<string, unknown> | undefined;
}

type Value = (f: Frame) => unknown;
/** Writes a program's text for a frame. */
type Emit = (f: Frame, o: Out) => void;
type Part = string | Emit;

/** A value known while compiling a template specialised for shared values (Template.specialize). */
class Const {
  constructor(readonly v: unknown) {}
}
/** A value as the compiler holds it: known now, or looked up when rendering. */
type Operand = Value | Const;
const dynamic = (x: Operand): Value => {
  if (!(x instanceof Const)) return x;
  const v = x.v;
  return () => v;
};

const NOTHING: Emit = () => undefined;

interface Node {
  type: string;
  [k: string]: unknown;
}

/** Handlebars' nullContext: what `this` is inside a block when the context is null or undefined. */
const NULL_CONTEXT = Object.seal({});

const hasOwn = (o: unknown, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Handlebars' lookupProperty with prototype access denied (its default): own properties only. */
function lookup(parent: unknown, name: string): unknown {
  const result = (parent as Record<string, unknown>)[name]; // throws on null/undefined, as Handlebars does
  if (result === null || result === undefined) return result;
  return hasOwn(parent, name) ? result : undefined;
}

/** Handlebars' `if`: false for falsy values and empty arrays (0 included). */
function truthy(v: unknown): boolean {
  return !(!v || (Array.isArray(v) && v.length === 0));
}

/** What `+` makes of a helper's result when Handlebars appends it. */
function text(v: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- Handlebars writes what + makes of any value
  return v === null || v === undefined ? '' : String(v);
}

class Unsupported extends Error {}

function unsupported(): never {
  throw new Unsupported();
}

const BLOCKS = new Set(['if', 'unless', 'each']);
const ARITY: Record<string, number> = { json: 1, eq: 2, flat6token: 4 };

/** The helper a mustache, sub-expression or block calls, and its parameters: one plain name and no hash, else outside the subset. */
function callOf(s: Node): { name: string; params: Node[] } {
  const path = s['path'] as Node;
  if (s['hash'] || path.type !== 'PathExpression' || path['data'] || path['depth'] !== 0) unsupported();
  const parts = path['parts'] as string[];
  const name = parts[0];
  if (parts.length !== 1 || name === undefined) unsupported();
  return { name, params: (s['params'] as Node[] | undefined) ?? [] };
}

/**
 * A program (the template, or a block's body or else part) as Handlebars
 * compiles it: `deep` when it or a program inside it uses ../, and only then
 * are the enclosing contexts handed to the programs of its blocks.
 */
interface Scope {
  deep: boolean;
}

class Compiler {
  usesData = false;
  private readonly scopes: Scope[] = [];
  /** Whether the program being compiled renders with the template's own context (the root, or an if/unless inside it; not an each body). */
  private atRoot = true;
  /**
   * @param shared values every context this compile serves holds too
   *   (Template.specialize): a path from the root context to one of them is
   *   known now, and whatever depends only on known values is written as
   *   fixed text. The context handed to the result then holds the rest only.
   */
  constructor(
    private readonly helpers: Helpers,
    private readonly shared?: object,
  ) {}

  /** Compile a program; `scope` receives whether it is deep once it is compiled. */
  program(node: unknown, scope: Scope = { deep: false }): Emit {
    if (node === undefined || node === null) return NOTHING;
    const p = node as Node;
    if (p.type !== 'Program' || (Array.isArray(p['blockParams']) && p['blockParams'].length > 0)) unsupported();
    const parent = this.scopes[this.scopes.length - 1];
    this.scopes.push(scope);
    const parts = this.parts(p, []);
    this.scopes.pop();
    if (parent && scope.deep) parent.deep = true;
    if (parts.length === 0) return NOTHING;
    // fixed text is encoded once, here
    const emits: Array<Lit | Emit> = parts.map((p) => (typeof p === 'string' ? lit(p) : p));
    if (emits.length === 1) {
      const only = emits[0]!;
      return typeof only === 'function' ? only : (_f, o) => o.lit(only);
    }
    return (f, o) => {
      for (let i = 0; i < emits.length; i++) {
        const e = emits[i]!;
        if (typeof e === 'function') e(f, o);
        else o.lit(e);
      }
    };
  }

  /** A program's statements as parts appended to `parts`, adjacent text joined. */
  private parts(p: Node, parts: Part[]): Part[] {
    for (const s of p['body'] as Node[]) {
      const part = this.statement(s);
      for (const x of Array.isArray(part) ? part : [part]) {
        if (x === '') continue;
        const prev = parts[parts.length - 1];
        if (typeof x === 'string' && typeof prev === 'string') parts[parts.length - 1] = prev + x;
        else parts.push(x);
      }
    }
    return parts;
  }

  private statement(s: Node): Part | Part[] {
    switch (s.type) {
      case 'ContentStatement':
        return s['value'] as string;
      case 'CommentStatement':
        return '';
      case 'MustacheStatement':
        return this.mustache(s);
      case 'BlockStatement':
        return this.block(s);
      default:
        return unsupported();
    }
  }

  private helperCall(s: Node): Operand {
    const { name, params } = callOf(s);
    if (ARITY[name] !== params.length || !hasOwn(this.helpers, name)) unsupported();
    const fn = this.helpers[name as keyof Helpers];
    const operands = params.map((p) => this.value(p));
    if (operands.every((x) => x instanceof Const)) {
      // every argument known: call the helper now; a value it refuses stays to be refused when rendering, as unspecialised
      try {
        return new Const(fn(...operands.map((x) => (x as Const).v)));
      } catch {
        // fall through
      }
    }
    const args = operands.map(dynamic);
    if (args.length === 1) {
      const a = args[0]!;
      return (f) => fn(a(f));
    }
    if (args.length === 2) {
      const [a, b] = args as [Value, Value];
      return (f) => fn(a(f), b(f));
    }
    // flat6token: its last three arguments are the literals the guard wrote
    const [r1, r2, r3] = params.slice(1).map((p) => (p.type === 'StringLiteral' ? (p['value'] as string) : unsupported()));
    const a = args[0]!;
    // named, not spread: a spread call allocates its arguments on every value a template writes
    return (f) => fn(a(f), r1, r2, r3);
  }

  private mustache(s: Node): Part {
    // A mustache without parameters is either a guarded {{x}} (rewritten before this) or a triple-stash lookup: Handlebars resolves the latter.
    if (((s['params'] as unknown[] | undefined) ?? []).length === 0) unsupported();
    const call = this.helperCall(s);
    if (call instanceof Const) {
      try {
        return text(call.v);
      } catch {
        // written (and refused) when rendering
      }
    }
    const value = dynamic(call);
    return (f, o) => o.str(text(value(f)));
  }

  private block(s: Node): Part | Part[] {
    const { name, params } = callOf(s);
    if (params.length !== 1 || !BLOCKS.has(name)) unsupported();
    const known = this.value(params[0]!);
    if (known instanceof Const && name !== 'each') {
      // if/unless on a known value, in the same context: the branch taken, in place
      const taken = truthy(known.v) === (name === 'if');
      const branch = (taken ? s['program'] : s['inverse']) as Node | undefined | null;
      return branch ? this.parts(branch, []) : '';
    }
    const cond = dynamic(known);
    let fn: Emit;
    const atRoot = this.atRoot;
    if (name === 'each') this.atRoot = false; // an each body renders with each item as its context
    try {
      fn = this.program(s['program']);
    } finally {
      this.atRoot = atRoot;
    }
    const inverse = this.program(s['inverse']);
    const here = this.scopes[this.scopes.length - 1]!;
    /** Whether this block's programs get the enclosing contexts: the program holding the block is deep (known once it is compiled). */
    const usesDepths = (): boolean => here.deep;
    // `this` inside a block helper is the context, or Handlebars' nullContext when there is none
    const self = (f: Frame): unknown => (f.ctx === null || f.ctx === undefined ? NULL_CONTEXT : f.ctx);
    if (name === 'if' || name === 'unless') {
      const yes = name === 'if' ? fn : inverse;
      const no = name === 'if' ? inverse : fn;
      return (f, o) => {
        const branch = truthy(cond(f)) ? yes : no;
        const ctx = self(f);
        // Same context and no enclosing contexts to hand on: the body's frame is this one.
        if (ctx === f.ctx && !usesDepths()) branch(f.depths === undefined ? f : { ctx, depths: undefined, data: f.data }, o);
        else branch(enter(f, ctx, f.data, usesDepths()), o);
      };
    }
    return (f, o) => {
      let context = cond(f);
      let i = 0;
      const data: Record<string, unknown> | undefined = f.data === undefined ? undefined : { ...f.data, _parent: f.data };
      const step = (item: unknown, key: string | number, index: number, last: boolean): void => {
        if (data) {
          data['key'] = key;
          data['index'] = index;
          data['first'] = index === 0;
          data['last'] = last;
        }
        fn(enter(f, item, data, usesDepths()), o);
      };
      if (context !== null && typeof context === 'object') {
        if (!Array.isArray(context) && typeof (context as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') context = [...(context as Iterable<unknown>)];
        if (Array.isArray(context)) {
          const list = context as unknown[];
          for (const j = list.length; i < j; i++) if (i in list) step(list[i], i, i, i === list.length - 1);
        } else {
          const obj = context as Record<string, unknown>;
          let prior: string | undefined;
          for (const key of Object.keys(obj)) {
            if (prior !== undefined) step(obj[prior], prior, i - 1, false);
            prior = key;
            i++;
          }
          if (prior !== undefined) step(obj[prior], prior, i - 1, true);
        }
      }
      // nothing was written when nothing was iterated
      if (i === 0) inverse(enter(f, self(f), f.data, usesDepths()), o);
    };
  }

  private value(p: Node): Operand {
    switch (p.type) {
      case 'StringLiteral':
      case 'NumberLiteral':
      case 'BooleanLiteral': {
        const v = p['value'];
        return this.shared ? new Const(v) : () => v;
      }
      case 'UndefinedLiteral':
        return this.shared ? new Const(undefined) : () => undefined;
      case 'NullLiteral':
        return this.shared ? new Const(null) : () => null;
      case 'SubExpression':
        return this.helperCall(p);
      case 'PathExpression':
        return this.path(p);
      default:
        return unsupported();
    }
  }

  private path(p: Node): Operand {
    const parts = p['parts'] as string[];
    const depth = p['depth'] as number;
    if (this.shared) {
      // The context handed to a specialised template lacks the shared values: whatever would reach for the whole root
      // context (this at the root, ../, @root) is left to the unspecialised template.
      if (depth > 0 || (p['data'] && parts[0] === 'root') || (this.atRoot && !p['data'] && parts.length === 0)) unsupported();
      if (this.atRoot && !p['data'] && hasOwn(this.shared, parts[0]!)) {
        try {
          let v: unknown = this.shared;
          for (const part of parts) v = lookup(v, part);
          return new Const(v);
        } catch {
          unsupported(); // a lookup through null: left to the unspecialised template, which refuses it as before
        }
      }
    }
    if (p['data']) {
      if (depth !== 0) unsupported();
      this.usesData = true;
      return (f) => {
        let v: unknown = f.data;
        for (let i = 0; i < parts.length; i++) v = lookup(v, parts[i]!);
        return v;
      };
    }
    if (depth > 0) this.scopes[this.scopes.length - 1]!.deep = true;
    if (parts.length === 1 && depth === 0) {
      const name = parts[0]!;
      return (f) => lookup(f.ctx, name);
    }
    // indexed loops here and below: these run for every value written, often before V8 optimises them, and for-of
    // makes an iterator there each time
    return (f) => {
      let v: unknown = depth === 0 ? f.ctx : f.depths?.[depth];
      for (let i = 0; i < parts.length; i++) v = lookup(v, parts[i]!);
      return v;
    };
  }
}

/** The frame of a block's body: Handlebars adds a level for ../ only when the context changes (loosely). */
function enter(f: Frame, ctx: unknown, data: Record<string, unknown> | undefined, usesDepths: boolean): Frame {
  if (!usesDepths || f.depths === undefined) return { ctx, depths: undefined, data };
  // Handlebars compares with != here
  const push = ctx != f.depths[0] && !(ctx === NULL_CONTEXT && f.depths[0] === null);
  if (!push) return { ctx, depths: f.depths, data };
  const depths = new Array<unknown>(f.depths.length + 1);
  depths[0] = ctx;
  for (let i = 0; i < f.depths.length; i++) depths[i + 1] = f.depths[i];
  return { ctx, depths, data };
}

/** A compiled template: its text for a context, or written into an Out. */
export interface Template {
  (context: unknown): string;
  into(context: unknown, out: Out): void;
  /**
   * This template for contexts that hold `shared`'s own properties besides
   * their own: what depends only on those is written as fixed text, and the
   * result takes a context without them. Undefined when the template reaches
   * for its whole context (this at the top, ../, @root), when it was not
   * compiled by the subset compiler, and the first time a shared object
   * comes; the caller then renders the merged context. A specialisation is
   * compiled the second time and kept for as long as its shared object lives.
   */
  specialize?(shared: object): Template | undefined;
}

/** A template whose text some other function makes (Handlebars' own compile): `into` writes that text. */
export function textTemplate(render: (context: unknown) => string): Template {
  const t = ((context: unknown) => render(context)) as Template;
  t.into = (context, out) => out.str(render(context));
  return t;
}

const SEEN = Symbol('seen once');

function build(ast: unknown, helpers: Helpers, shared?: object): Template | undefined {
  const c = new Compiler(helpers, shared);
  const scope: Scope = { deep: false };
  let main: Emit;
  try {
    main = c.program(ast, scope);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const { usesData } = c;
  const deep = scope.deep;
  const into = (context: unknown, out: Out): void => main({ ctx: context, depths: deep ? [context] : undefined, data: usesData ? { root: context } : undefined }, out);
  const t = ((context: unknown) => {
    const out = new TextOut();
    into(context, out);
    return out.s;
  }) as Template;
  t.into = into;
  return t;
}

/**
 * Compile a Handlebars Program AST (after Handlebars' whitespace control) with
 * `helpers`; undefined when the template leaves the subset.
 */
export function compileSubset(ast: unknown, helpers: Helpers): Template | undefined {
  const t = build(ast, helpers);
  if (!t) return undefined;
  // per shared object: SEEN once, then its specialisation (null: none)
  const made = new WeakMap<object, Template | null | typeof SEEN>();
  let last: { shared: object; t: Template | undefined } | undefined;
  t.specialize = (shared) => {
    // hosts come one after another with the same shared object: one comparison, not a WeakMap lookup, per file
    if (last?.shared === shared) return last.t;
    const s = made.get(shared);
    if (s === undefined) {
      // Compiled the second time a shared object comes: a caller with a new one for every file (per-host secrets,
      // say) renders each from the merged context rather than paying a compile each time.
      made.set(shared, SEEN);
      return undefined;
    }
    const special = s === SEEN ? (build(ast, helpers, shared) ?? null) : s;
    if (s === SEEN) made.set(shared, special);
    last = { shared, t: special ?? undefined };
    return last.t;
  };
  return t;
}
