/**
 * The three ways a directory render writes files give the same tree: the
 * JavaScript DirWriter (--jobs 1), the native writer (native/write.c, on a
 * libuv pool thread) and the writer thread (src/render/write-worker.ts, when
 * the build has no native writer). Trees are compared with fast-check over
 * random paths, modes and contents (empty and binary included), and the
 * native writer's errors read like Node's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { packageRoot } from '../src/core/package-root.js';
import { checkRel, DirWriter, currentUmask } from '../src/sinks/dir.js';
import { hasNativeWriter, NativeDirWriter, NATIVE_WRITER } from '../src/sinks/native-writer.js';
import { collect, type CollectedFiles } from '../src/render/units.js';
import { WriteThread, writeWorkerScript } from '../src/render/write-thread.js';
import { writerLanes } from '../src/render/output.js';
import { cleanupTempDirs, hashTree, ROOT, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

const NODE_HEADERS = ['/usr/include/node/node_api.h', join(process.execPath, '..', '..', 'include', 'node', 'node_api.h')];

type Entry = { path: string; mode: number; content: string };

/** Files grouped as the renderers group them: <top>/<group>/<dirs...>/<file>, groups in turn. */
const treeArb: fc.Arbitrary<Entry[]> = fc
  .array(
    fc.record({
      top: fc.constantFrom('hosts', 'fabric'),
      group: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
      files: fc.array(
        fc.record({
          dirs: fc.array(fc.constantFrom('etc', 'sysctl.d', 'netplan', 'cni', 'net.d', 'a b', 'ü'), { maxLength: 4 }),
          name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/),
          mode: fc.constantFrom(0o644, 0o600, 0o755, 0o640, 0o666, 0o400),
          content: fc.oneof(fc.constant(''), fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 2000 })),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((groups) => {
    // one entry per path: a later file may not reuse a path or sit below a path that is a file
    const seen = new Set<string>();
    const out: Entry[] = [];
    for (const g of groups)
      for (const f of g.files) {
        const path = [g.top, g.group, ...f.dirs, f.name].join('/');
        const parts = path.split('/');
        const clash = parts.some((_, i) => seen.has(parts.slice(0, i + 1).join('/'))) || [...seen].some((s) => s.startsWith(`${path}/`));
        if (clash) continue;
        seen.add(path);
        out.push({ path, mode: f.mode, content: f.content });
      }
    return out;
  });

function writeJs(entries: Entry[]): string {
  const dir = tempDir('js');
  const w = new DirWriter(dir, currentUmask());
  for (const e of entries) w.write(e.path, e.mode, e.content);
  return dir;
}

async function writeWith(write: (c: CollectedFiles) => Promise<{ files: number; bytes: number }>, entries: Entry[], dir: string): Promise<{ files: number; bytes: number }> {
  // two units handed over at once, as a render hands over racks while the writer works
  const half = Math.ceil(entries.length / 2);
  const [a, b] = await Promise.all([write(collect(entries.slice(0, half))), write(collect(entries.slice(half)))]);
  expect(existsSync(dir)).toBe(true);
  return { files: a.files + b.files, bytes: a.bytes + b.bytes };
}

describe('native writer', () => {
  it('is built wherever Node headers are installed (scripts/native.mjs, run by npm run build), from source that compiles without a warning', () => {
    const header = NODE_HEADERS.find((h) => existsSync(h));
    if (header === undefined) return; // no headers: the JavaScript writers do the work
    expect(existsSync(join(ROOT, NATIVE_WRITER))).toBe(true);
    expect(hasNativeWriter()).toBe(true);
    const cc = spawnSync('cc', ['-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-std=gnu11', `-I${dirname(header)}`, join(ROOT, 'native', 'write.c')], { encoding: 'utf8' });
    expect(cc.stderr).toBe('');
    expect(cc.status).toBe(0);
  });

  it('writes the same tree as the JavaScript writer (paths, modes, bytes), with one lane or units side by side', async () => {
    if (!hasNativeWriter()) return;
    await fc.assert(
      fc.asyncProperty(treeArb, fc.integer({ min: 1, max: 4 }), async (entries, lanes) => {
        const js = writeJs(entries);
        const dir = tempDir('native');
        const w = new NativeDirWriter(dir, currentUmask(), lanes);
        const r = await writeWith((c) => w.write(c), entries, dir);
        expect(r.files).toBe(entries.length);
        expect(r.bytes).toBe(entries.reduce((n, e) => n + Buffer.byteLength(e.content), 0));
        expect(hashTree(dir)).toBe(hashTree(js));
      }),
      { numRuns: 60 },
    );
  });

  it('fails like Node: an existing file is EEXIST, a file where a directory should be is ENOTDIR; nothing is written after a failure', async () => {
    if (!hasNativeWriter()) return;
    const dir = tempDir('native-err');
    writeFileSync(join(dir, 'taken'), 'x');
    mkdirSync(join(dir, 'hosts'));
    writeFileSync(join(dir, 'hosts', 'plain'), 'x');
    const w = new NativeDirWriter(dir, currentUmask());
    await expect(w.write(collect([{ path: 'taken', mode: 0o644, content: 'y' }]))).rejects.toMatchObject({
      code: 'EEXIST',
      message: `EEXIST: file already exists, open '${dir}/taken'`,
    });
    const w2 = new NativeDirWriter(dir, currentUmask());
    await expect(w2.write(collect([{ path: 'hosts/plain/etc/x.conf', mode: 0o644, content: 'y' }]))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(w2.write(collect([{ path: 'later.conf', mode: 0o644, content: 'y' }]))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(existsSync(join(dir, 'later.conf'))).toBe(false);
  });

  it('stops a writer at its first failure: its batches still queued write nothing, another writer goes on', async () => {
    if (!hasNativeWriter()) return;
    const native = createRequire(import.meta.url)(join(ROOT, NATIVE_WRITER)) as {
      write(root: string, umask: number, paths: string, meta: Uint32Array, data: Uint8Array, stop: Int32Array, lane: number): Promise<[number, number]>;
    };
    const dir = tempDir('native-stop');
    writeFileSync(join(dir, 'taken'), 'x');
    const stop = new Int32Array(1);
    const one = (path: string, s: Int32Array): Promise<[number, number]> => native.write(dir, currentUmask(), `${path}\0`, new Uint32Array([0o644, 1]), new Uint8Array([65]), s, 0);
    await expect(one('taken', stop)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(stop[0]).toBe(1);
    await expect(one('after', stop)).rejects.toThrow('native writer: stopped, an earlier batch failed');
    expect(existsSync(join(dir, 'after'))).toBe(false);
    await expect(one('other', new Int32Array(1))).resolves.toEqual([1, 1]);
    expect(existsSync(join(dir, 'other'))).toBe(true);
    expect(() => native.write(dir, 0, 'x\0', new Uint32Array(2), new Uint8Array(0), new Int32Array(2), 0)).toThrow(TypeError);
  });

  it('accepts exactly the paths the JavaScript writer accepts', async () => {
    if (!hasNativeWriter()) return;
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom('a', '.', '/', 'é'), minLength: 1, maxLength: 8 }), async (path) => {
        let js = true;
        try {
          checkRel(path);
        } catch {
          js = false;
        }
        const dir = tempDir('native-path');
        const native = await new NativeDirWriter(dir, currentUmask()).write(collect([{ path, mode: 0o644, content: 'y' }])).then(
          () => true,
          (e: unknown) => (e instanceof Error && e.message.startsWith('refusing to write outside') ? false : Promise.reject(e as Error)),
        );
        expect(native).toBe(js);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a path outside the root, or a unit with one, before writing anything', async () => {
    if (!hasNativeWriter()) return;
    const dir = tempDir('native-rel');
    const w = new NativeDirWriter(dir, currentUmask());
    for (const path of ['../x', '/etc/x', 'a/./b', 'a//b', 'a/', 'a/..', '.', ''])
      await expect(new NativeDirWriter(dir, currentUmask()).write(collect([{ path: 'ok/first', mode: 0o644, content: 'y' }, { path, mode: 0o644, content: 'y' }]))).rejects.toThrow(
        `refusing to write outside the output directory: ${path}`,
      );
    await expect(w.write(collect([{ path: 'a\0b', mode: 0o644, content: 'y' }]))).rejects.toThrow('native writer: paths and sizes disagree');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('writer thread', () => {
  it('writes the same tree as the JavaScript writer', async () => {
    const script = writeWorkerScript();
    expect(script, 'npm run build makes dist/render/write-worker.js').toBeDefined();
    const entries = fc.sample(treeArb, { numRuns: 8, seed: 7 }).flat();
    const unique = entries.filter((e, i) => entries.findIndex((o) => o.path === e.path || o.path.startsWith(`${e.path}/`) || e.path.startsWith(`${o.path}/`)) === i);
    const js = writeJs(unique);
    const dir = tempDir('thread');
    const t = new WriteThread(script!, { root: dir, umask: currentUmask() });
    try {
      const r = await writeWith((c) => t.write(c), unique, dir);
      expect(r.files).toBe(unique.length);
      expect(hashTree(dir)).toBe(hashTree(js));
      await expect(t.write(collect([unique[0]!]))).rejects.toMatchObject({ code: 'EEXIST' });
    } finally {
      await t.close();
    }
  });
});

describe('writer lanes', () => {
  it('are two on tmpfs, one elsewhere', () => {
    const TMPFS = 0x01021994;
    if (existsSync('/dev/shm')) {
      const shm = mkdtempSync('/dev/shm/flat6-lanes-');
      try {
        expect(writerLanes(shm)).toBe(statfsSync(shm).type === TMPFS ? 2 : 1);
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    }
    const disk = tempDir('lanes');
    expect(writerLanes(disk)).toBe(statfsSync(disk).type === TMPFS ? 2 : 1);
    expect(writerLanes('/nonexistent/dir')).toBe(1);
    expect(() => new NativeDirWriter(tempDir('lanes'), 0o022, 5)).toThrow(/lanes takes 1 to 4/);
  });
});

describe('packageRoot', () => {
  it('finds the package from src/, whatever the depth of the module', () => {
    expect(packageRoot(import.meta.url)).toBe(ROOT);
    expect(packageRoot(new URL('../src/cloud/shared/stack-input.ts', import.meta.url).href)).toBe(ROOT);
  });
});
