/**
 * The templates of both sides. The head renders with the templates as they are
 * now (the built-in ones, under an optional --templates overlay). The base
 * renders with the same files as they were at the base commit: each template
 * that differs is written to a temporary directory used as the base's overlay,
 * so nothing in the working tree is touched. A template directory outside the
 * repository cannot be read at a commit: both sides use it as it is now.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BUILTIN_TEMPLATES, TemplateSet } from '../render/templates.js';
import { readFilesAt, repoPath, type GitBase } from './git.js';

/** Template files under `dir`, as names relative to it ("netplan/60-flat6.yaml.hbs"), sorted. */
export function templateNames(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of entries) {
      const p = join(d, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p, `${prefix}${name}/`);
      else if (st.isFile()) out.push(`${prefix}${name}`);
    }
  };
  walk(dir, '');
  return out;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A TemplateSet that records the names of the templates it renders. */
export class RecordingTemplateSet extends TemplateSet {
  readonly used = new Set<string>();
  override render(name: string, context: object, shared?: object): string {
    this.used.add(name);
    return super.render(name, context, shared);
  }
}

export interface TemplateSides {
  head: RecordingTemplateSet;
  base: TemplateSet;
  /** names whose text differs between base and head */
  changed: string[];
  /** remove the base's temporary overlay */
  dispose(): void;
}

/** Both sides render the same templates (an earlier render directory as base, or no base stack). */
export function sameTemplates(overlay: string | undefined): TemplateSides {
  const head = new RecordingTemplateSet(overlay);
  return { head, base: head, changed: [], dispose: () => {} };
}

/** Head: the templates now. Base: each template as it was at the base commit. */
export function templatesAt(base: GitBase, overlay: string | undefined): TemplateSides {
  const head = new RecordingTemplateSet(overlay);
  const layers = [...(head.overlay ? [head.overlay] : []), BUILTIN_TEMPLATES];
  const names = [...new Set(layers.flatMap(templateNames))].sort();
  // Repository paths of every layer file inside the repository, read at the commit in one batch.
  const wanted: string[] = [];
  const at = new Map<string, string | undefined>();
  for (const layer of layers) {
    for (const n of names) {
      const rp = repoPath(base, join(layer, n));
      if (rp !== undefined) {
        wanted.push(rp);
        at.set(join(layer, n), rp);
      }
    }
  }
  const blobs = readFilesAt(base, wanted);
  const baseText = (n: string): string | undefined => {
    for (const layer of layers) {
      const p = join(layer, n);
      const rp = at.get(p);
      const text = rp !== undefined ? (blobs.get(rp) ?? undefined) : readOrUndefined(p);
      if (text !== undefined) return text;
    }
    return undefined;
  };
  const changed: string[] = [];
  let dir: string | undefined;
  for (const n of names) {
    const now = readOrUndefined(head.resolvePath(n));
    const then = baseText(n) ?? now;
    if (then === undefined) continue;
    if (then !== now) changed.push(n);
    // The base's overlay falls back to the built-in template now: write what differs from it.
    if (then !== readOrUndefined(join(BUILTIN_TEMPLATES, n))) {
      dir ??= mkdtempSync(join(tmpdir(), 'flat6-diff-templates-'));
      const p = join(dir, n);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, then, { mode: 0o600 });
    }
  }
  const baseSet = dir ? new TemplateSet(dir) : new TemplateSet();
  return {
    head,
    base: baseSet,
    changed,
    dispose: () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
