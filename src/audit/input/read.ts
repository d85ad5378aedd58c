/**
 * Input files: paths given on the command line (files, directories, `-` for
 * standard input), read as a stream and decoded as strict UTF-8. A file is
 * JSON when its first character is `{` or `[`, YAML otherwise. In a directory,
 * files ending in .yaml, .yml and .json are read (as `kubectl apply -f DIR -R`
 * does), in name order; .git and node_modules are not entered.
 */
import { createReadStream, type Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { ObjectSource } from '../engine.js';
import { AuditInputError, type KubeObject } from '../types.js';
import { JsonScanner } from './json-scan.js';
import { MAX_ERRORS_PER_FILE } from './limits.js';
import { UnitReader, type Unit } from './units.js';
import { fileLine, YamlSplitter } from './yaml-split.js';

export interface InputSink {
  object(obj: KubeObject, src: ObjectSource): void;
  /** something in the input that was not audited: `what` is the reason (one note line per reason), `where` an example */
  note(where: string, what: string): void;
  error(e: AuditInputError): void;
}

const MANIFEST_RE = /\.(ya?ml|json)$/i;
const SKIP_DIRS = new Set(['.git', 'node_modules']);

/** Every file to read under the given paths, in order; notes for what a directory holds but is not read. */
export async function expandPaths(paths: string[], cwd: string, sink: InputSink): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      sink.error(new AuditInputError(show(dir, cwd), undefined, `cannot read the directory (${(e as NodeJS.ErrnoException).code ?? 'error'})`));
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (SKIP_DIRS.has(e.name)) sink.note(show(p, cwd), 'directories not entered (.git, node_modules)');
        else if (depth >= 64) sink.note(show(p, cwd), 'directories nested more than 64 deep, not entered');
        else await walk(p, depth + 1);
      } else if (e.isFile() && MANIFEST_RE.test(e.name)) files.push(p);
      else sink.note(show(p, cwd), e.isSymbolicLink() ? 'symbolic links in directories not followed' : 'files in directories not read (not .yaml, .yml or .json)');
    }
  };
  for (const p of paths) {
    if (p === '-') {
      files.push('-');
      continue;
    }
    const abs = isAbsolute(p) ? p : join(cwd, p);
    let st;
    try {
      st = await stat(abs);
    } catch (e) {
      sink.error(new AuditInputError(p, undefined, `cannot read: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : ((e as NodeJS.ErrnoException).code ?? 'error')}`));
      continue;
    }
    if (st.isDirectory()) await walk(abs, 0);
    else if (st.isFile()) files.push(abs);
    else sink.error(new AuditInputError(p, undefined, 'not a regular file or directory (a device or pipe is not read; use - for standard input)'));
  }
  return files;
}

/** How a file is named in findings: relative to the working directory when below it. */
export function show(abs: string, cwd: string): string {
  if (abs === '-') return '<stdin>';
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** Thrown to stop reading a file after too many problems. */
class GiveUp extends Error {}

/** Read one file (or standard input) and pass every object on; problems go to sink.error. */
export async function readFile(path: string, cwd: string, stdin: AsyncIterable<Buffer | string>, sink: InputSink): Promise<void> {
  const name = show(path, cwd);
  const stream: AsyncIterable<Buffer | string> = path === '-' ? stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  let errors = 0;
  const error = (e: AuditInputError): void => {
    sink.error(e);
    if (++errors >= MAX_ERRORS_PER_FILE) {
      sink.error(new AuditInputError(name, undefined, `${MAX_ERRORS_PER_FILE} problems: the rest of the file was not read`));
      throw new GiveUp();
    }
  };
  const reader = new UnitReader(name, name, {
    object: (o, src) => sink.object(o, src),
    skipped: (line, what) => sink.note(`${name}:${line}`, what),
  });
  const feed = (format: 'json' | 'yaml', units: Unit[]): void => {
    for (const u of units) {
      try {
        if (format === 'json') reader.json(u);
        else reader.yaml(u);
      } catch (e) {
        if (!(e instanceof AuditInputError)) throw e;
        error(e);
      }
    }
  };
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let yaml: YamlSplitter | undefined;
  let json: JsonScanner | undefined;
  /** newlines read so far (for the line of binary data) */
  let lines = 0;
  let lead = 0;
  let started = false;
  const push = (text: string): void => {
    if (!started) {
      if (text.charCodeAt(0) === 0xfeff && lines === 0 && lead === 0) text = text.slice(1);
      const c = /\S/.exec(text)?.[0];
      if (!c) {
        lead += countLines(text);
        return;
      }
      started = true;
      if (c === '{' || c === '[') json = new JsonScanner(name);
      else yaml = new YamlSplitter(name);
      // whitespace-only chunks before this one keep their lines
      text = '\n'.repeat(lead) + text;
    }
    if (json) feed('json', json.push(text));
    else feed('yaml', yaml!.push(text).map(toUnit));
  };
  try {
    try {
      for await (const chunk of stream) {
        let text: string;
        try {
          text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
        } catch {
          throw new AuditInputError(name, lines + 1, 'binary data: the input is not UTF-8 text (at or after this line)');
        }
        const nul = text.indexOf('\0');
        if (nul >= 0) throw new AuditInputError(name, lines + 1 + countLines(text.slice(0, nul)), 'binary data: a NUL byte where YAML or JSON text should be');
        lines += countLines(text);
        push(text);
      }
      const tail = decoder.decode();
      if (tail) push(tail);
      if (json) feed('json', json.end());
      else if (yaml) feed('yaml', yaml.end().map(toUnit));
    } catch (e) {
      if (e instanceof GiveUp) return;
      if (e instanceof AuditInputError) error(e);
      else if ((e as NodeJS.ErrnoException).code) error(new AuditInputError(name, undefined, `cannot read (${(e as NodeJS.ErrnoException).code})`));
      else throw e;
    }
    reader.finish();
  } catch (e) {
    if (!(e instanceof GiveUp)) throw e;
  } finally {
    if (path !== '-' && 'destroy' in stream) (stream as { destroy(): void }).destroy();
  }
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function toUnit(u: ReturnType<YamlSplitter['end']>[number]): Unit {
  return u.gap ? { ...u, fileLine: (n: number) => fileLine(u, n) } : u;
}
