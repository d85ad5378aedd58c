/**
 * Handlebars templates under templates/<kind>/, compiled once per process.
 * An operator overlay directory (--templates DIR) wins file by file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { UsageError } from '../core/diagnostics.js';

/** templates/ of this package (two levels above src/render or dist/render). */
export const BUILTIN_TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

const hb = Handlebars.create();
// JSON strings are valid YAML scalars, so {{json x}} quotes safely in YAML and JSON alike.
hb.registerHelper('json', (v: unknown) => new hb.SafeString(JSON.stringify(v)));
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hb.registerHelper('join', (list: unknown[], sep: unknown) => new hb.SafeString(list.map(String).join(typeof sep === 'string' ? sep : ', ')));

const compiled = new Map<string, Handlebars.TemplateDelegate>();

export class TemplateSet {
  readonly overlay?: string;
  constructor(overlay?: string) {
    if (overlay !== undefined) {
      if (!existsSync(overlay)) throw new UsageError(`template overlay directory ${overlay} does not exist`);
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

  render(name: string, context: object): string {
    const path = this.resolvePath(name);
    let t = compiled.get(path);
    if (!t) {
      let source: string;
      try {
        source = readFileSync(path, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read template ${path}: ${(e as Error).message}`);
      }
      t = hb.compile(source, { noEscape: true, strict: true });
      compiled.set(path, t);
    }
    try {
      return t(context);
    } catch (e) {
      // Compilation is lazy in Handlebars: syntax errors and unknown fields both surface here.
      throw new UsageError(`template ${path}: ${(e as Error).message.split('\n').slice(0, 4).join(' ')}`);
    }
  }
}
