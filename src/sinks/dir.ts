/**
 * Directory sink: write a whole tree beside the target, then swap it in with
 * renames, so a failed render leaves the previous output exactly as it was.
 *
 * The target is replaced as a whole, so the writer refuses a target it did not
 * make: a non-empty directory without a top-level plan.json (the mark of flat6
 * output), the working directory or one of its parents, or a directory holding
 * the stack file being rendered.
 */
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { UsageError } from '../core/diagnostics.js';
import { isStreamed, type TreeEntry } from '../render/files.js';
import { DirTracker } from './dirs.js';

export interface WriteResult {
  files: number;
  bytes: number;
  /** files carried over unchanged from the previous tree */
  carried: string[];
}

export interface WriteOptions {
  /** working directory of the command (default process.cwd()): the target may be neither it nor one of its parents */
  cwd?: string;
  /** inputs the target must not contain (e.g. the stack file, a --secrets file or a --templates directory), with what they are */
  protect?: Array<{ path: string; what: string }>;
  /**
   * Top-level files of the previous tree to carry over unchanged, owner-only
   * (0600), when the entries do not provide them (e.g. DIR/secrets.yaml).
   */
  carry?: string[];
}

/** A top-level file every flat6 render writes: its presence marks a directory as earlier flat6 output. */
export const OUTPUT_MARK = 'plan.json';

function safeJoin(root: string, rel: string): string {
  const n = normalize(rel);
  if (isAbsolute(n) || n.startsWith('..')) throw new Error(`refusing to write outside the output directory: ${rel}`);
  return join(root, n);
}

/** Real path when it exists (symlinks resolved), else the resolved path. */
function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** `inner` is `outer` or lies below it. */
function within(outer: string, inner: string): boolean {
  if (inner === outer) return true;
  return inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

/** Longest file name Linux file systems take, in bytes. */
const NAME_MAX = 255;

/**
 * mkdir -p, one level at a time; returns the directories it made, outermost
 * first, so a failed render can remove them again. Node's recursive mkdir loops
 * for ever where mkdir fails with ENOENT although the parent exists (e.g. under
 * /proc); here that error surfaces.
 */
function makeDirs(dir: string, made: string[]): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    mkdirSync(d);
    made.push(d);
  }
}

/** Remove directories makeDirs made (innermost first), where they are still empty. Never throws. */
function unmakeDirs(made: string[]): void {
  for (const d of [...made].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/**
 * Name of the sibling a render writes into (`new`) or moves the old tree to
 * (`old`). The tag (pid and time) takes at most 20 bytes.
 */
function tempName(base: string, kind: 'new' | 'old', tag: string): string {
  return `.${base}.flat6-${kind}-${tag}`;
}
/** Longest last part of --out: its temporary siblings (tempName) must fit in NAME_MAX. */
const MAX_OUT_NAME = NAME_MAX - tempName('', 'new', '').length - 20;

/** Refuse targets that replacing as a whole would destroy (UsageError, exit 2; nothing touched). */
export function checkOutputTarget(out: string, opts: WriteOptions = {}): void {
  const target = resolve(out);
  const realTarget = real(target);
  const cwd = real(opts.cwd ?? process.cwd());
  if (within(realTarget, cwd)) {
    throw new UsageError(
      `output directory ${out} is ${realTarget === cwd ? 'the current directory' : `a parent of the current directory (${cwd})`}; flat6 replaces the output directory as a whole. Pass a directory of its own, e.g. --out out`,
    );
  }
  for (const f of opts.protect ?? []) {
    if (within(realTarget, real(f.path))) {
      throw new UsageError(`output directory ${out} contains the ${f.what} ${f.path}; flat6 replaces the output directory as a whole, which would delete it. Keep inputs outside the output directory, or pass another --out`);
    }
  }
  const nameBytes = Buffer.byteLength(basename(target));
  if (nameBytes > MAX_OUT_NAME) {
    throw new UsageError(
      `output directory name ${basename(target).slice(0, 40)}... is ${nameBytes} bytes; flat6 writes beside it under that name plus ${NAME_MAX - MAX_OUT_NAME} bytes, and file names are limited to ${NAME_MAX}. Pass an --out whose last part has at most ${MAX_OUT_NAME} bytes`,
    );
  }
  if (!existsSync(target)) return;
  if (!lstatSync(target).isDirectory()) throw new UsageError(`output path ${out} exists and is not a directory; pass a new or empty directory, or an earlier flat6 output directory`);
  let names: string[];
  try {
    names = readdirSync(target);
  } catch (e) {
    throw new UsageError(`cannot write output ${out}: ${(e as Error).message}`);
  }
  if (names.length > 0 && !names.includes(OUTPUT_MARK)) {
    throw new UsageError(
      `output directory ${out} is not empty and holds no ${OUTPUT_MARK}, so it is not earlier flat6 output; flat6 replaces the output directory as a whole and will not delete it. Pass a new or empty directory, or move ${out} aside yourself`,
    );
  }
}

/** Remove `.DIR.flat6-new-*` trees an interrupted run left beside the target (they may hold 0600 secrets). */
function removeStaleNew(parent: string, base: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const head = tempName(base, 'new', '');
  for (const n of names) {
    if (!n.startsWith(head)) continue;
    const pid = Number(/^(\d+)-/.exec(n.slice(head.length))?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)) continue; // another render is writing it now
    rmSync(join(parent, n), { recursive: true, force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e) && e.code === 'EPERM';
  }
}

/**
 * A staging directory beside `out`: sinks write into `root`, then `commit()`
 * swaps it in with renames (the previous tree moves aside and is removed), or
 * `abort()` removes it and any parents it made. Either way a failure leaves
 * `out` exactly as it was.
 */
export interface Stage {
  /** absolute path of the staging directory (mode 0755, empty) */
  readonly root: string;
  /** absolute path of the target */
  readonly target: string;
  /** run a filesystem step; errno errors become UsageError("cannot write output ...") */
  fsOp<T>(f: () => T): T;
  /** copy top-level `names` of the previous tree (0600) unless `written` has them; returns those copied */
  carry(names: string[], written: (name: string) => boolean): string[];
  commit(): void;
  abort(): void;
}

/** Check the target (see checkOutputTarget), make its parents and an empty staging directory beside it. */
export function openStage(out: string, opts: WriteOptions = {}): Stage {
  checkOutputTarget(out, opts);
  const target = resolve(out);
  const fsOp = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (isErrno(e)) throw new UsageError(`cannot write output ${out}: ${e.message}`);
      throw e;
    }
  };
  const parent = dirname(target);
  const madeParents: string[] = [];
  try {
    fsOp(() => makeDirs(parent, madeParents));
  } catch (err) {
    unmakeDirs(madeParents);
    throw err;
  }
  removeStaleNew(parent, basename(target));
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const tmp = join(parent, tempName(basename(target), 'new', tag));
  const old = join(parent, tempName(basename(target), 'old', tag));
  try {
    fsOp(() => mkdirSync(tmp, { mode: 0o755 }));
  } catch (err) {
    unmakeDirs(madeParents);
    throw err;
  }
  let done = false;
  return {
    root: tmp,
    target,
    fsOp,
    carry(names, written) {
      const carried: string[] = [];
      for (const name of names) {
        const from = join(target, name);
        if (written(normalize(name)) || !existsSync(from) || !lstatSync(from).isFile()) continue;
        fsOp(() => {
          const p = safeJoin(tmp, name);
          mkdirSync(dirname(p), { recursive: true });
          writeFileSync(p, readFileSync(from), { mode: 0o600, flag: 'wx' });
          chmodSync(p, 0o600);
        });
        carried.push(name);
      }
      return carried;
    },
    commit() {
      fsOp(() => {
        if (existsSync(target)) renameSync(target, old);
        renameSync(tmp, target);
      });
      done = true;
      rmSync(old, { recursive: true, force: true });
    },
    abort() {
      if (done) return;
      done = true;
      // Cleanup must not hide the first error: each step is tried on its own.
      try {
        rmSync(tmp, { recursive: true, force: true });
      } catch {
        /* the caller's error says what went wrong */
      }
      try {
        if (existsSync(old) && !existsSync(target)) renameSync(old, target);
      } catch {
        /* as above */
      }
      unmakeDirs(madeParents);
    },
  };
}

/** The process umask now (read from /proc where it can be: reading it with process.umask() is deprecated). */
export function currentUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return parseInt(m[1]!, 8);
  } catch {
    /* not Linux */
  }
  // Reading the umask this way sets it twice (a race with other threads); only reached where /proc/self/status has no Umask line.
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  return process.umask();
}

/**
 * Writes files under a root, each directory made once and each file opened
 * with its final mode (a second chmod only where the umask would change it).
 * Paths come grouped by their first two parts (hosts/<host>/..., fabric/<router>/...),
 * so only the directories of the current group are remembered: memory stays
 * flat whatever the number of files.
 */
export class DirWriter {
  files = 0;
  bytes = 0;
  private readonly dirs = new DirTracker();
  constructor(
    readonly root: string,
    private readonly umask: number = currentUmask(),
  ) {}

  /** Make the directories of `rel` not made yet, each once. */
  private dirOf(rel: string): void {
    for (const d of this.dirs.missing(rel)) {
      try {
        mkdirSync(`${this.root}/${d}`);
      } catch (e) {
        if (!isErrno(e) || e.code !== 'EEXIST') throw e;
      }
    }
  }

  /** Write one file; `rel` must be a relative path without "." or ".." parts. */
  write(rel: string, mode: number, content: string | Uint8Array | Iterable<string>): void {
    checkRel(rel);
    this.dirOf(rel);
    const p = `${this.root}/${rel}`;
    if (typeof content === 'string') {
      // open, one write of the string (no Buffer made here), close: the fewest calls for a new file
      const fd = openSync(p, 'wx', mode);
      try {
        const size = Buffer.byteLength(content);
        let n = writeSync(fd, content);
        if (n < size) {
          // a short write (a full disk, a signal): the rest from a buffer, as writeFileSync would
          const b = Buffer.from(content);
          while (n < size) n += writeSync(fd, b, n, size - n);
        }
        this.bytes += size;
      } finally {
        closeSync(fd);
      }
    } else if (content instanceof Uint8Array) {
      const fd = openSync(p, 'wx', mode);
      try {
        for (let n = 0; n < content.length; ) n += writeSync(fd, content, n, content.length - n);
        this.bytes += content.length;
      } finally {
        closeSync(fd);
      }
    } else {
      const fd = openSync(p, 'wx', mode);
      try {
        for (const c of content) {
          writeSync(fd, c);
          this.bytes += Buffer.byteLength(c);
        }
      } finally {
        closeSync(fd);
      }
    }
    if ((mode & this.umask) !== 0) chmodSync(p, mode); // the umask must not loosen or tighten what the entry says
    this.files++;
  }

  entry(e: TreeEntry): void {
    this.write(e.path, e.mode, isStreamed(e) ? e.chunks() : e.content);
  }
}

/** Refuse absolute paths and "", ".", ".." parts (the renderers never make them; a template overlay cannot either). */
export function checkRel(rel: string): void {
  if (rel.startsWith('/') || rel.includes('//') || rel.endsWith('/') || /(^|\/)\.\.?(\/|$)/.test(rel) || rel.includes('\0')) {
    throw new Error(`refusing to write outside the output directory: ${rel}`);
  }
}

/**
 * Atomically replace `out` with the files from `entries` (see WriteOptions for
 * what is refused and what is carried over). Filesystem errors while writing
 * become UsageError("cannot write output ...") and leave `out` as it was.
 */
export function writeTreeAtomic(out: string, entries: Iterable<TreeEntry>, opts: WriteOptions = {}): WriteResult {
  const stage = openStage(out, opts);
  try {
    const w = new DirWriter(stage.root);
    const written = new Set<string>();
    const watch = new Set((opts.carry ?? []).map((n) => normalize(n)));
    for (const e of entries) {
      stage.fsOp(() => w.entry(e));
      if (watch.has(e.path)) written.add(e.path);
    }
    const carried = stage.carry(opts.carry ?? [], (n) => written.has(n));
    stage.commit();
    return { files: w.files, bytes: w.bytes, carried };
  } catch (err) {
    stage.abort();
    throw err;
  }
}
