/**
 * `flat6 diff` for a set of stacks against one base: a git ref (stack files
 * and templates as they were at that commit) or an earlier render directory.
 */
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../core/diagnostics.js';
import type { ClusterPlan } from '../plan/plan.js';
import { chooseSecrets } from '../render/secrets.js';
import { diffAgainstDir, readRenderDir } from './dir.js';
import { DIFF_SECRETS } from './files.js';
import { listFilesAt, openGitBase, readFilesAt, repoPath, type GitBase } from './git.js';
import { diffPools } from './pools.js';
import { MAX_STACK_BYTES } from '../spec/load.js';
import { diffStack, loadSide, type Side } from './stack.js';
import { sameTemplates, templatesAt } from './templates.js';
import type { DiffReport, StackDiff } from './types.js';

/** A stack the head names: its file now (absolute) and how to show it. */
export interface HeadStack {
  name: string;
  file: string;
  shownAs: string;
}

export interface DiffRequest {
  /** --base as written, and resolved against the working directory */
  base: string;
  basePath: string;
  /** one stack, or every stack of a stacks directory (with the names there now) */
  stacks: { kind: 'one'; stack: HeadStack } | { kind: 'all'; dir: string; shownDir: string; head: HeadStack[] };
  /** --templates, resolved */
  overlay?: string;
  /** --secrets, resolved (for a render directory base) */
  secretsFile?: string;
  env: NodeJS.ProcessEnv;
  allowRenumber: boolean;
  context: number;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exitCodeOf(stacks: readonly StackDiff[]): 0 | 1 | 2 {
  if (stacks.some((d) => d.status === 'error' && d.error?.exitCode === 2)) return 2;
  if (stacks.some((d) => d.status === 'error' || d.blocked)) return 1;
  return 0;
}

export function runDiff(req: DiffRequest): DiffReport {
  if (isDirectory(req.basePath)) return runAgainstDir(req);
  return runAgainstGit(req);
}

function runAgainstDir(req: DiffRequest): DiffReport {
  if (req.stacks.kind === 'all') {
    throw new UsageError(`--base ${req.base} is a render directory, which holds one stack: use --stack NAME with it (--all-stacks takes a git ref)`);
  }
  const rendered = readRenderDir(req.basePath);
  const choice = chooseSecrets({ file: req.secretsFile, env: req.env, previous: join(req.basePath, 'secrets.yaml') });
  const secrets = choice.source === 'generated' ? { ...DIFF_SECRETS, caCertHashes: choice.secrets.caCertHashes } : choice.secrets;
  const templates = sameTemplates(req.overlay);
  const s = req.stacks.stack;
  const head = loadSide(s.file, undefined, s.shownAs);
  const d = diffAgainstDir({
    name: s.name,
    file: s.shownAs,
    head,
    rendered,
    ctx: (plan: ClusterPlan) => ({ plan, templates: templates.head, secrets }),
    context: req.context,
    allowRenumber: req.allowRenumber,
  });
  const stacks = [d];
  return { base: { kind: 'dir', dir: req.base }, stacks, allowRenumber: req.allowRenumber, exitCode: exitCodeOf(stacks) };
}

interface Pair {
  name: string;
  head?: HeadStack;
  /** repository path of the stack file at the base (when it existed there) */
  basePath?: string;
  shownAs: string;
}

function pairs(req: DiffRequest, git: GitBase): Pair[] {
  if (req.stacks.kind === 'one') {
    const s = req.stacks.stack;
    const rp = repoPath(git, s.file);
    if (rp === undefined) throw new UsageError(`--base ${req.base}: the stack file ${s.shownAs} is not inside the repository ${git.top}`);
    return [{ name: s.name, head: s, basePath: rp, shownAs: s.shownAs }];
  }
  const { dir, shownDir, head } = req.stacks;
  const rel = repoPath(git, dir);
  if (rel === undefined) throw new UsageError(`--base ${req.base}: the stacks directory ${shownDir} is not inside the repository ${git.top}`);
  const atBase = new Map<string, string>();
  for (const p of listFilesAt(git, rel)) {
    if (dirname(p) !== rel) continue;
    const m = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(p));
    if (m) atBase.set(m[1], p);
  }
  const byName = new Map(head.map((h) => [h.name, h]));
  const names = [...new Set([...byName.keys(), ...atBase.keys()])].sort();
  return names.map((name) => {
    const h = byName.get(name);
    const bp = atBase.get(name);
    return { name, ...(h ? { head: h } : {}), ...(bp ? { basePath: bp } : {}), shownAs: h?.shownAs ?? join(shownDir, basename(bp!)) };
  });
}

function runAgainstGit(req: DiffRequest): DiffReport {
  const from = req.stacks.kind === 'one' ? dirname(req.stacks.stack.file) : req.stacks.dir;
  const git = openGitBase(from, req.base);
  const list = pairs(req, git);
  const texts = readFilesAt(
    git,
    list.flatMap((p) => (p.basePath ? [p.basePath] : [])),
  );
  const templates = templatesAt(git, req.overlay);
  const baseRef = { kind: 'git' as const, ref: req.base, commit: git.commit };
  try {
    const stacks = list.map((p) => {
      const text = p.basePath ? texts.get(p.basePath) : undefined;
      // "<ref>:<path>": diagnostics name the base file so; its base name gives the stack name, as for the head.
      const shownBase = `${req.base}:${p.basePath ?? p.shownAs}`;
      const base: Side =
        text === null
          ? { kind: 'error', error: { exitCode: 2, message: `${shownBase} is larger than the ${MAX_STACK_BYTES} bytes a stack file may have`, diagnostics: [] } }
          : loadSide(undefined, text, shownBase);
      const head = p.head ? loadSide(p.head.file, undefined, p.head.shownAs) : loadSide(undefined, undefined, p.shownAs);
      const d = diffStack({
        name: p.name,
        file: p.shownAs,
        baseRef,
        head,
        base,
        templates,
        secrets: { base: DIFF_SECRETS, head: DIFF_SECRETS },
        context: req.context,
        allowRenumber: req.allowRenumber,
      });
      if (head.kind === 'ok' && base.kind === 'ok') diffPools(d, { base, head, templates, allowRenumber: req.allowRenumber, context: req.context });
      return d;
    });
    return { base: baseRef, stacks, allowRenumber: req.allowRenumber, exitCode: exitCodeOf(stacks) };
  } finally {
    templates.dispose();
  }
}
