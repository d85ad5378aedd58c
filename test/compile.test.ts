/**
 * The template compiler of src/render/compile.ts against Handlebars itself:
 * every bundled template stays in the subset, and for the contexts a real
 * render builds, for those contexts with values swapped at random, and for
 * random templates of the subset over random contexts, the two write the
 * same text or both refuse. Contexts are plain objects, as flat6's renderers
 * build them (a null-prototype object can make Handlebars' own loose
 * comparisons throw at places that depend on how it shares compiled programs).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Template } from '../src/render/compile.js';
import type { FileEntry } from '../src/render/files.js';
import { ByteOut, lit } from '../src/render/out.js';
import { collect } from '../src/render/units.js';
import { renderHostFiles } from '../src/render/render.js';
import { fabricRenderer } from '../src/render/routing.js';
import { buildTemplateCache, bundledTemplateNames } from '../src/render/template-cache.js';
import { BUILTIN_TEMPLATES, compileProcessed, compileSubsetOf, compileTemplate, compileWithHandlebars, parseGuarded, TemplateSet, TemplateValueError } from '../src/render/templates.js';
import { cleanupTempDirs, ROOT, TEST_SECRETS, planBundled, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const RUNS = Number(process.env['FLAT6_FUZZ_RUNS'] ?? 300);

type Outcome = { text: string } | { error: string };

function outcome(f: () => string): Outcome {
  try {
    return { text: f() };
  } catch (e) {
    return { error: (e as Error).constructor.name };
  }
}

/**
 * Every (template, context) a render of the bundled stacks makes, captured at
 * TemplateSet.render: `context` as the template sees it (the host's own values
 * and the renderer's shared ones), with the two parts apart as handed over.
 */
function capturedContexts(): Array<{ name: string; context: object; own: object; shared?: object }> {
  const seen: Array<{ name: string; context: object; own: object; shared?: object }> = [];
  const templates = new TemplateSet();
  const original = templates.render.bind(templates);
  templates.render = (name: string, context: object, shared?: object): string => {
    seen.push({ name, context: shared ? { ...shared, ...context } : context, own: context, shared });
    return original(name, context, shared);
  };
  for (const stack of ['metal', 'multirack'] as const) {
    const plan = planBundled(stack);
    const ctx = { plan, templates, secrets: { bootstrapToken: TEST_SECRETS.bootstrapToken, certificateKey: TEST_SECRETS.certificateKey, caCertHashes: [TEST_SECRETS.caCertHash] } };
    for (const node of plan.nodes()) renderHostFiles(ctx, node);
    for (const _ of fabricRenderer.render(ctx)) void _;
  }
  return seen;
}

describe('the subset compiler equals Handlebars', () => {
  const names = bundledTemplateNames();
  const sources = new Map(names.map((n) => [n, readFileSync(join(BUILTIN_TEMPLATES, n), 'utf8')]));

  it('compiles every bundled template itself (none falls back to Handlebars)', () => {
    expect(names.length).toBeGreaterThanOrEqual(16);
    for (const n of names) expect(compileSubsetOf(parseGuarded(sources.get(n)!, n)), n).toBeDefined();
  });

  it('writes the same bytes for every context a render of metal and multirack builds', () => {
    const seen = capturedContexts();
    const names = new Set(seen.map((s) => s.name));
    expect(names.size).toBeGreaterThanOrEqual(13);
    const fast = new Map([...names].map((n) => [n, compileTemplate(sources.get(n)!, n)]));
    const slow = new Map([...names].map((n) => [n, compileWithHandlebars(sources.get(n)!, n)]));
    for (const { name, context } of seen) expect(fast.get(name)!(context), name).toBe(slow.get(name)!(context));
  });

  it('specialises every host template for the shared values a render hands it: the same bytes from the host\'s own values alone', () => {
    const seen = capturedContexts().filter((s) => s.shared !== undefined);
    expect(new Set(seen.map((s) => s.name)).size).toBeGreaterThanOrEqual(7); // sysctl, modules, netplan, kubeadm init and join, pods, BIRD, CNI
    const compiled = new Map<string, Template>();
    for (const { name, context, own, shared } of seen) {
      // a key in both would let the host's value hide the shared one in one path and not the other
      expect(Object.keys(own).filter((k) => Object.prototype.hasOwnProperty.call(shared, k)), name).toEqual([]);
      let t = compiled.get(name);
      if (!t) compiled.set(name, (t = compileTemplate(sources.get(name)!, name)));
      t.specialize!(shared!); // the first time a shared object comes, the caller renders the merged context
      const special = t.specialize!(shared!);
      expect(special, name).toBeDefined();
      expect(t.specialize!(shared!)).toBe(special); // compiled once per shared object
      expect(special!(own)).toBe(t(context));
    }
  });

  it("the build's template cache compiles to the same output, and dist/ holds the current one", () => {
    const cache = buildTemplateCache();
    expect(Object.keys(cache).sort()).toEqual(names);
    const seen = capturedContexts();
    const fromCache = new Map(names.map((n) => [n, compileProcessed(JSON.parse(JSON.stringify(cache[n]!.ast)))]));
    const slow = new Map(names.map((n) => [n, compileWithHandlebars(sources.get(n)!, n)]));
    for (const n of names) expect(fromCache.get(n), n).toBeDefined();
    for (const { name, context } of seen) expect(fromCache.get(name)!(context), name).toBe(slow.get(name)!(context));
    const built = join(ROOT, 'dist', 'render', 'templates.cache.json');
    // CI builds dist/ in npm ci; a stale cache is harmless (an entry is used only for its exact source) but means the build step did not run
    if (existsSync(built)) expect(JSON.parse(readFileSync(built, 'utf8'))).toEqual(cache);
  });

  const anyValue = fc.oneof(
    fc.constantFrom(undefined, null, true, false, 0, 1, -1, '', 'a', 'x.y', '2001:db8::1', 'a b', 'line\nbreak', '[object Object]', [], {}),
    fc.integer(),
    fc.string({ maxLength: 6 }),
    fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'name', 'address'), fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean()), { maxKeys: 3, noNullPrototype: true }),
  );

  it('agrees on real contexts with values swapped at random (text, or both refuse)', () => {
    const seen = capturedContexts();
    const byName = new Map<string, object[]>();
    for (const s of seen) if ((byName.get(s.name)?.length ?? 0) < 3) byName.set(s.name, [...(byName.get(s.name) ?? []), s.context]);
    const cases = [...byName].flatMap(([name, ctxs]) => ctxs.map((c) => ({ name, context: c })));
    const fast = new Map([...byName.keys()].map((n) => [n, compileTemplate(sources.get(n)!, n)]));
    const slow = new Map([...byName.keys()].map((n) => [n, compileWithHandlebars(sources.get(n)!, n)]));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.array(fc.tuple(fc.nat(), anyValue), { maxLength: 4 }), ({ name, context }, swaps) => {
        const c: Record<string, unknown> = structuredClone(context) as Record<string, unknown>;
        const keys = Object.keys(c);
        for (const [k, v] of swaps) c[keys[k % keys.length]!] = v;
        expect(outcome(() => fast.get(name)!(c))).toEqual(outcome(() => slow.get(name)!(c)));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  /** Random templates of the subset: text with newlines and spaces, guarded and json mustaches, if/unless/each with else, ../, @data, eq, comments, ~ stripping. */
  const fields = ['a', 'b', 'xs', 'name', 'this', '../a', '../b', '../../a', 'a.name', '@index', '@first', '@last', '@key', '@root.a'];
  const expr = fc.oneof(fc.constantFrom(...fields), fc.tuple(fc.constantFrom(...fields), fc.constantFrom(...fields)).map(([x, y]) => `(eq ${x} ${y})`));
  const leaf = fc.oneof(
    fc.constantFrom('', ' ', '\n', '  \n', 'text', 'k: v\n', '\t', '\r\n', '{{! note }}', '{{!-- long --}}\n', '# Grüße €\n', '😀'),
    fc.constantFrom(...fields.filter((f) => !f.startsWith('@root') || true)).map((f) => `{{${f}}}`),
    expr.map((e) => `{{json ${e}}}`),
    fc.constantFrom('{{~a}}', '{{b~}}', '{{~json a~}}'),
  );
  const template: fc.Arbitrary<string> = fc.letrec<{ t: string }>((tie) => ({
    t: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.tuple(tie('t'), tie('t')).map(([x, y]) => x + y),
      fc.tuple(fc.constantFrom('if', 'unless', 'each'), expr, tie('t'), fc.option(tie('t')), fc.constantFrom('', '\n', '  \n'), fc.boolean()).map(
        ([b, e, body, alt, nl, tilde]) => `{{${tilde ? '~' : ''}#${b} ${e}}}${nl}${body}${alt === null ? '' : `{{else}}${nl}${alt}`}{{/${b}}}${nl}`,
      ),
    ),
  })).t;
  const context = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      anyValue,
      fc.array(tie('v'), { maxLength: 3 }),
      fc.record({ a: tie('v'), b: tie('v'), xs: tie('v'), name: fc.string({ maxLength: 3 }) }, { requiredKeys: [], noNullPrototype: true }),
    ),
  })).v;

  it.each([['x.yaml.hbs'], ['x.conf.hbs']])('agrees on random templates and contexts (%s)', (name) => {
    const tally = { text: 0, refused: 0, each: 0, special: 0 };
    fc.assert(
      fc.property(template, fc.record({ a: context, b: context, xs: context, name: context }, { requiredKeys: [], noNullPrototype: true }), (source, ctx) => {
        let fast: Template;
        let slow: (c: object) => string;
        try {
          slow = compileWithHandlebars(source, name);
          fast = compileTemplate(source, name);
        } catch {
          return; // a template Handlebars cannot parse is refused before either compiler runs
        }
        const o = outcome(() => fast(ctx));
        expect(o).toEqual(outcome(() => slow(ctx)));
        if ('text' in o) {
          // into bytes (a directory render's path), from a buffer too small to start with: the same text, UTF-8
          const out = new ByteOut(1);
          out.str('pre');
          fast.into(ctx, out);
          expect(out.bytes().equals(Buffer.from(`pre${o.text}`, 'utf8'))).toBe(true);
        }
        // specialised for a random part of the context, rendered from the rest: the same outcome
        const keys = Object.keys(ctx).filter((_k, i) => (source.length + i) % 2 === 0);
        const shared = Object.fromEntries(keys.map((k) => [k, (ctx as Record<string, unknown>)[k]]));
        const own = Object.fromEntries(Object.entries(ctx).filter(([k]) => !keys.includes(k)));
        fast.specialize?.(shared);
        const special = fast.specialize?.(shared);
        if (special) {
          expect(outcome(() => special(own))).toEqual(o);
          tally.special++;
        }
        // and for all of it, rendered from an empty context
        fast.specialize?.(ctx);
        const whole = fast.specialize?.(ctx);
        if (whole) expect(outcome(() => whole({}))).toEqual(o);
        if ('text' in o) tally.text++;
        else tally.refused++;
        if ('text' in o && source.includes('#each') && o.text.length > 0) tally.each++;
      }),
      { numRuns: RUNS * 4 },
    );
    // the generator reaches both outcomes and blocks that write something (a property that never renders proves little)
    expect(tally.text).toBeGreaterThan(RUNS / 4);
    expect(tally.refused).toBeGreaterThan(RUNS / 10);
    expect(tally.each).toBeGreaterThan(RUNS / 20);
    expect(tally.special).toBeGreaterThan(RUNS / 4);
  });

  it('specialises: known values written as text, each bodies and else parts in their own contexts, the whole context left alone', () => {
    const t = (source: string): Template => compileTemplate(source, 'x.conf.hbs');
    const shared = { xs: [{ a: 1 }, { a: 2 }], a: 'root', none: [] as unknown[], yes: true };
    const cases: Array<[string, object, string]> = [
      ['{{#each xs}}[{{json a}}]{{/each}}', {}, '[1][2]'],
      ['{{#each none}}x{{else}}{{json a}}{{/each}}', {}, '"root"'],
      ['{{#if yes}}{{a}}-{{b}}{{else}}no{{/if}}', { b: 'own' }, 'root-own'],
      ['{{#unless yes}}no{{else}}{{#each xs}}{{@index}}{{/each}}{{/unless}}', {}, '01'],
      ['{{#if (eq a "root")}}same{{/if}} {{#if b}}{{b}}{{/if}}', { b: 'own' }, 'same own'],
    ];
    const twice = (x: Template, sh: object): Template | undefined => (x.specialize!(sh), x.specialize!(sh));
    for (const [source, own, text] of cases) {
      const special = twice(t(source), shared);
      expect(special, source).toBeDefined();
      expect(special!(own)).toBe(text);
      expect(t(source)({ ...shared, ...own })).toBe(text);
    }
    // what needs the whole context is not specialised: the caller renders the merged context
    for (const source of ['{{json this}}', '{{#each xs}}{{json ../a}}{{/each}}', '{{json @root.a}}', '{{#each this}}{{@key}}{{/each}}']) expect(twice(t(source), shared), source).toBeUndefined();
    // compiled the second time a shared object comes: a caller with a new one for every file never pays a compile
    const many = t('{{a}}');
    expect(Array.from({ length: 40 }, (_, i) => many.specialize!({ a: `v${i}` })).every((x) => x === undefined)).toBe(true);
    // a shared value a plain mustache may not write is refused when rendering, with the unspecialised error
    const refused = twice(t('{{a}}'), { a: 'two words' });
    expect(() => refused!({})).toThrow(TemplateValueError);
    expect(() => t('{{a}}')({ a: 'two words' })).toThrow(TemplateValueError);
  });

  it('falls back to Handlebars outside the subset, with the same output', () => {
    const ctx = { a: 'x', xs: ['p', 'q'], people: [{ n: 'r' }] };
    const cases = ['{{#with a}}[{{json this}}]{{/with}}', '{{#each xs as |v i|}}{{json v}}{{i}}{{/each}}', '{{{a}}}', '{{lookup xs 1}}', '{{#each people}}{{json n}}{{/each}}'];
    for (const source of cases) {
      const subset = compileSubsetOf(parseGuarded(source, 'x.conf.hbs'));
      if (source.includes('people')) expect(subset).toBeDefined();
      else expect(subset, source).toBeUndefined();
      expect(outcome(() => compileTemplate(source, 'x.conf.hbs')(ctx))).toEqual(outcome(() => compileWithHandlebars(source, 'x.conf.hbs')(ctx)));
    }
  });
});

describe('compiled templates', () => {
  it('write UTF-8 into bytes, growing the buffer as needed', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.string({ unit: 'binary', maxLength: 40 }))), (pieces) => {
        const out = new ByteOut(1);
        for (const [fixed, s] of pieces) {
          if (fixed) out.lit(lit(s));
          else out.str(s);
        }
        expect(out.bytes().equals(Buffer.from(pieces.map(([, s]) => s).join(''), 'utf8'))).toBe(true);
      }),
    );
  });

  it('render into the unit being collected, whatever order the files come in, with files that are text among them', () => {
    const dir = tempDir('templates-collect');
    mkdirSync(join(dir, 'sysctl'));
    writeFileSync(join(dir, 'sysctl', 'modules-load.conf.hbs'), '# {{host}} ü\n');
    const templates = new TemplateSet(dir);
    const made = (host: string): FileEntry => templates.file(`${host}/a`, 0o644, 'sysctl/modules-load.conf.hbs', { host });
    function* entries(): Generator<FileEntry> {
      const first = made('h1');
      const second = made('h2');
      yield second; // made after first, handed out before it
      yield { path: 'plain', mode: 0o600, content: 'text € entry\n' };
      yield first;
      yield made('h3');
    }
    const c = collect(entries(), templates);
    expect(templates.sink).toBeUndefined();
    expect(c.files).toEqual([
      { path: 'h2/a', mode: 0o644, size: Buffer.byteLength('# h2 ü\n') },
      { path: 'plain', mode: 0o600, size: Buffer.byteLength('text € entry\n') },
      { path: 'h1/a', mode: 0o644, size: Buffer.byteLength('# h1 ü\n') },
      { path: 'h3/a', mode: 0o644, size: Buffer.byteLength('# h3 ü\n') },
    ]);
    expect(Buffer.from(c.data).toString('utf8')).toBe('# h2 ü\ntext € entry\n# h1 ü\n# h3 ü\n');
    // a value the template refuses leaves nothing in the unit (its fixed text before the value included)
    writeFileSync(join(dir, 'sysctl', 'modules-load.conf.hbs'), 'ok\n{{host}}\n');
    const strict = new TemplateSet(dir);
    strict.sink = new ByteOut(16);
    strict.file('x', 0o644, 'sysctl/modules-load.conf.hbs', { host: 'good' });
    expect(() => strict.file('y', 0o644, 'sysctl/modules-load.conf.hbs', { host: 'bad value' })).toThrow(TemplateValueError);
    strict.file('z', 0o644, 'sysctl/modules-load.conf.hbs', { host: 'also-good' });
    expect(strict.sink.bytes().toString('utf8')).toBe('ok\ngood\nok\nalso-good\n');
  });

  it('are compiled again when the file changed, in the same process', () => {
    const dir = tempDir('templates-edited');
    mkdirSync(join(dir, 'sysctl'));
    const file = join(dir, 'sysctl', 'modules-load.conf.hbs');
    writeFileSync(file, 'first {{host}}\n');
    expect(new TemplateSet(dir).render('sysctl/modules-load.conf.hbs', { host: 'h1' })).toBe('first h1\n');
    writeFileSync(file, 'second {{host}}\n');
    expect(new TemplateSet(dir).render('sysctl/modules-load.conf.hbs', { host: 'h1' })).toBe('second h1\n');
  });
});
