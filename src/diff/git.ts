/**
 * Reading files as they were at a git ref, without touching the working tree,
 * its index or its checkout: `git rev-parse`, `git ls-tree` and
 * `git cat-file --batch` only. Every failure is a UsageError that names the
 * ref and says why.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { UsageError } from '../core/diagnostics.js';

/** Files larger than this are not read from git (flat6 refuses stack files this large anyway). */
const MAX_BLOB = 64 * 1024 * 1024;

function git(cwd: string, args: string[], input?: string): Buffer {
  return execFileSync('git', args, {
    cwd,
    input,
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
    // A user's pager or prompts must never wait for input.
    env: { ...process.env, GIT_PAGER: 'cat', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
  });
}

function gitError(e: unknown): string {
  const err = e as { code?: string; stderr?: Buffer; message?: string };
  if (err.code === 'ENOENT') return 'git is not installed (or not on PATH)';
  const text = err.stderr?.toString('utf8').trim() || err.message || String(e);
  return text.split('\n')[0].replace(/^fatal: /, '');
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A repository and one commit of it. */
export interface GitBase {
  /** top-level directory of the working tree (real path) */
  top: string;
  /** the ref as the user wrote it */
  ref: string;
  /** the full commit id it names */
  commit: string;
}

/** The repository holding `dir` and the commit `ref` names there; a UsageError says which ref and why otherwise. */
export function openGitBase(dir: string, ref: string): GitBase {
  if (ref === '' || ref.startsWith('-') || hasControl(ref)) {
    throw new UsageError(`--base ${JSON.stringify(ref)}: not a git ref (a ref cannot be empty, start with "-" or hold control characters)`);
  }
  let top: string;
  try {
    top = realpathSync(git(dir, ['rev-parse', '--show-toplevel']).toString('utf8').trim());
  } catch (e) {
    throw new UsageError(`--base ${ref}: it is not a directory, and ${dir} is not inside a git repository (${gitError(e)}); pass a git ref of the stack's repository or an earlier render directory`);
  }
  let commit: string;
  try {
    commit = git(top, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]).toString('utf8').trim();
  } catch {
    const shallow = (() => {
      try {
        return git(top, ['rev-parse', '--is-shallow-repository']).toString('utf8').trim() === 'true';
      } catch {
        return false;
      }
    })();
    throw new UsageError(
      `--base ${ref}: no commit of that name in ${top}${shallow ? '; this clone is shallow, so older commits are missing (fetch them: git fetch --unshallow, or actions/checkout with fetch-depth: 0)' : ' (check the branch, tag or commit id; git log --oneline lists commits)'}`,
    );
  }
  return { top, ref, commit };
}

/** Path of `file` relative to the repository top, in git's form, or undefined when it lies outside. */
export function repoPath(base: GitBase, file: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    real = file;
  }
  const rel = relative(base.top, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/** Regular files under `dir` (a repository path; '' for the top) at the base commit, as repository paths. */
export function listFilesAt(base: GitBase, dir: string): string[] {
  let out: string;
  try {
    out = git(base.top, ['ls-tree', '-r', '-z', '--full-tree', base.commit, '--', dir === '' ? '.' : dir]).toString('utf8');
  } catch (e) {
    throw new UsageError(`--base ${base.ref}: cannot list ${dir || 'the repository'} at ${base.commit.slice(0, 12)}: ${gitError(e)}`);
  }
  const files: string[] = [];
  for (const entry of out.split('\0')) {
    // "<mode> <type> <object>\t<path>"
    const m = /^(\d+) blob [0-9a-f]+\t(.*)$/s.exec(entry);
    if (m && m[1] !== '120000' && m[1] !== '160000') files.push(m[2]);
  }
  return files;
}

/**
 * Contents of repository paths at the base commit, in one `git cat-file --batch`;
 * a path absent at that commit maps to undefined, one larger than MAX_BLOB to null.
 */
export function readFilesAt(base: GitBase, paths: readonly string[]): Map<string, string | null | undefined> {
  const result = new Map<string, string | null | undefined>();
  if (paths.length === 0) return result;
  for (const p of paths) if (hasControl(p)) throw new UsageError(`cannot read ${JSON.stringify(p)} from git: the path holds a control character`);
  let out: Buffer;
  try {
    out = git(base.top, ['cat-file', '--batch'], paths.map((p) => `${base.commit}:${p}\n`).join(''));
  } catch (e) {
    throw new UsageError(`--base ${base.ref}: cannot read files at ${base.commit.slice(0, 12)}: ${gitError(e)}`);
  }
  let off = 0;
  for (const p of paths) {
    const eol = out.indexOf(10, off);
    if (eol < 0) throw new UsageError(`--base ${base.ref}: git cat-file gave a short answer for ${p}`);
    const header = out.toString('utf8', off, eol);
    off = eol + 1;
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!m) {
      // "<object> missing" (or ambiguous): no such file at that commit.
      result.set(p, undefined);
      continue;
    }
    const size = Number(m[2]);
    if (m[1] !== 'blob') {
      result.set(p, undefined);
    } else if (size > MAX_BLOB) {
      result.set(p, null);
    } else {
      result.set(p, out.toString('utf8', off, off + size));
    }
    off += size + 1; // contents, then a newline
  }
  return result;
}
