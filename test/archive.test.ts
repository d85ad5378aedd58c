/**
 * Archive output (render --format tar|tar.gz): one archive per rack plus the
 * fabric's, which the system tar extracts into exactly the directory render
 * of the same stack (multirack), byte for byte and mode for mode; the tar
 * writer's long paths (ustar prefix, pax); failures leave nothing behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, constants, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ArchiveWriter } from '../src/sinks/archive.js';
import { directWriteAsync, hasNativeWriter } from '../src/sinks/native-writer.js';
import { DIRECT_MIN_HOSTS, directArchives } from '../src/render/output.js';
import { DirTracker } from '../src/sinks/dirs.js';
import { tarBuffer, TarEncoder } from '../src/sinks/tar.js';
import { atomicLeftovers, cleanupTempDirs, cli, readTree, renderStack, tempDir, testSecretsFile } from './helpers.js';

afterAll(cleanupTempDirs);

function tar(args: string[]): string {
  const r = spawnSync('tar', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Modes of every directory below `dir` (relative path -> mode). */
function dirModes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.set(relative(dir, p), st.mode & 0o7777);
        walk(p);
      }
    }
  };
  walk(dir);
  return out;
}

/** Extract every archive of an archive render into one fresh directory, with its plain files beside them. */
function extractAll(out: string, ext: string): string {
  const into = tempDir('extract');
  const archives = [join(out, `fabric.${ext}`), ...readdirSync(join(out, 'racks')).sort().map((n) => join(out, 'racks', n))];
  for (const a of archives) {
    expect(a.endsWith(`.${ext}`), a).toBe(true);
    tar(['-xpf', a, '-C', into]);
  }
  // plain files beside the archives (plan.json, secrets.yaml, cluster/addons/*.yaml), with their modes
  const copy = (rel: string): void => {
    for (const n of readdirSync(join(out, rel))) {
      const r = rel ? `${rel}/${n}` : n;
      if (r === 'racks' || r === `fabric.${ext}`) continue;
      const st = lstatSync(join(out, r));
      if (st.isDirectory()) {
        mkdirSync(join(into, r), { recursive: true });
        copy(r);
      } else {
        copyFileSync(join(out, r), join(into, r));
        chmodSync(join(into, r), st.mode & 0o7777);
      }
    }
  };
  copy('');
  return into;
}

describe('render --format tar|tar.gz', () => {
  it.each([['tar'], ['tar.gz']])('multirack as %s: extracted archives equal the directory render, modes included', async (ext) => {
    const dir = await renderStack('multirack');
    const out = await renderStack('multirack', ['--format', ext, '--jobs', '1']);
    expect(readdirSync(join(out, 'racks')).sort()).toEqual(['r0', 'r1', 'r2', 'r3'].map((r) => `${r}.${ext}`));
    expect(existsSync(join(out, 'hosts'))).toBe(false);
    const got = readTree(extractAll(out, ext));
    const want = readTree(dir);
    expect([...got.keys()]).toEqual([...want.keys()]);
    for (const [p, f] of want) {
      expect(got.get(p)!.content.equals(f.content), p).toBe(true);
      expect(got.get(p)!.mode.toString(8), p).toBe(f.mode.toString(8));
    }
    expect(dirModes(extractAll(out, ext))).toEqual(dirModes(dir));
    // a rack archive holds that rack's hosts only, each directory once
    const list = tar(['-tvf', join(out, 'racks', `r1.${ext}`)]).trim().split('\n');
    const names = list.map((l) => l.split(/\s+/).pop()!);
    expect(names.filter((n) => n.startsWith('hosts/') && n.split('/').length === 3 && n.endsWith('/')).sort()).toEqual(['hosts/r1-n0/', 'hosts/r1-n1/', 'hosts/r1-n2/', 'hosts/r1-n3/']);
    expect(new Set(names).size).toBe(names.length);
    expect(list.every((l) => l.includes('root/root'))).toBe(true);
  });

  it('the same archives every time (no timestamps)', async () => {
    const a = await renderStack('multirack', ['--format', 'tar.gz', '--jobs', '1']);
    const b = await renderStack('multirack', ['--format', 'tar.gz', '--jobs', '1']);
    for (const n of readdirSync(join(a, 'racks'))) expect(readTree(join(a, 'racks')).get(n)!.content.equals(readTree(join(b, 'racks')).get(n)!.content), n).toBe(true);
  });

  it('--host in archive form: that host and the ToR of its rack', async () => {
    const out = await renderStack('scale', ['--host', 'rack8191-n17', '--format', 'tar']);
    expect(readdirSync(join(out, 'racks'))).toEqual(['rack8191.tar']);
    const names = tar(['-tf', join(out, 'racks', 'rack8191.tar')]).trim().split('\n');
    expect(names.filter((n) => !n.endsWith('/')).every((n) => n.startsWith('hosts/rack8191-n17/etc/'))).toBe(true);
  });

  it('refuses an unknown format and a bad --jobs, writing nothing', async () => {
    const parent = tempDir('bad');
    const out = join(parent, 'out');
    for (const extra of [['--format', 'zip'], ['--jobs', '0'], ['--jobs', 'x']]) {
      const r = await cli(['render', '--stack', 'multirack', '--out', out, '--secrets', testSecretsFile(), ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('a failing render leaves no archive and no staging directory', async () => {
    const parent = tempDir('fail');
    const out = join(parent, 'out');
    const overlay = join(parent, 'overlay');
    mkdirSync(join(overlay, 'kubeadm'), { recursive: true });
    writeFileSync(join(overlay, 'kubeadm', 'join.yaml.hbs'), 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  nmae: {{host}}\n');
    const r = await cli(['render', '--stack', 'multirack', '--out', out, '--secrets', testSecretsFile(), '--templates', overlay, '--format', 'tar']);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(atomicLeftovers(parent, 'out')).toEqual([]);
  });
});

/** `f` run with FLAT6_DIRECT set to `value` (unset for undefined), then the variable as it was. */
async function withFlat6Direct<T>(value: string | undefined, f: () => T | Promise<T>): Promise<T> {
  const before = process.env['FLAT6_DIRECT'];
  if (value === undefined) delete process.env['FLAT6_DIRECT'];
  else process.env['FLAT6_DIRECT'] = value;
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env['FLAT6_DIRECT'];
    else process.env['FLAT6_DIRECT'] = before;
  }
}

describe('render --format tar past the page cache (FLAT6_DIRECT=1: O_DIRECT, the native writer in the background)', () => {
  const direct = <T>(f: () => Promise<T>): Promise<T> => withFlat6Direct('1', f);

  it('from DIRECT_MIN_HOSTS hosts for plain tar only; FLAT6_DIRECT=0 never, 1 for every plain tar render', async () => {
    await withFlat6Direct(undefined, () => {
      expect(directArchives('tar', DIRECT_MIN_HOSTS)).toBe(true);
      expect(directArchives('tar', DIRECT_MIN_HOSTS - 1)).toBe(false);
      expect(directArchives('tar.gz', 10 * DIRECT_MIN_HOSTS)).toBe(false);
    });
    await withFlat6Direct('0', () => expect(directArchives('tar', 10 * DIRECT_MIN_HOSTS)).toBe(false));
    await withFlat6Direct('1', () => {
      expect(directArchives('tar', 1)).toBe(true);
      expect(directArchives('tar.gz', 1)).toBe(false);
    });
  });

  it('writes the same archives as through the page cache, on one thread and on two workers', async () => {
    const parent = tempDir('direct-render');
    const args = (out: string, jobs: string): string[] => ['render', '--stack', 'multirack', '--out', join(parent, out), '--secrets', testSecretsFile(), '--format', 'tar', '--jobs', jobs];
    expect((await cli(args('buffered', '1'))).code).toBe(0);
    for (const jobs of ['1', '2']) {
      const r = await direct(() => cli(args(`direct${jobs}`, jobs)));
      expect(r.code, r.stderr).toBe(0);
      for (const f of readdirSync(join(parent, 'buffered', 'racks'))) expect(readFileSync(join(parent, `direct${jobs}`, 'racks', f)).equals(readFileSync(join(parent, 'buffered', 'racks', f))), f).toBe(true);
      expect(readFileSync(join(parent, `direct${jobs}`, 'fabric.tar')).equals(readFileSync(join(parent, 'buffered', 'fabric.tar')))).toBe(true);
    }
  });

  it('a failing render leaves no archive and no staging directory', async () => {
    const parent = tempDir('direct-fail');
    const out = join(parent, 'out');
    const overlay = join(parent, 'overlay');
    mkdirSync(join(overlay, 'kubeadm'), { recursive: true });
    writeFileSync(join(overlay, 'kubeadm', 'join.yaml.hbs'), 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  nmae: {{host}}\n');
    const r = await direct(() => cli(['render', '--stack', 'multirack', '--out', out, '--secrets', testSecretsFile(), '--templates', overlay, '--format', 'tar']));
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    expect(atomicLeftovers(parent, 'out')).toEqual([]);
  });
});

describe('tar writer', () => {
  it('long paths (ustar prefix and pax) and modes survive the system tar', () => {
    const files = [
      { path: 'a/short.txt', mode: 0o644, content: 'short\n' },
      { path: `${'d'.repeat(120)}/${'f'.repeat(90)}.conf`, mode: 0o600, content: 'prefix split\n' },
      { path: `${'x'.repeat(140)}/${'y'.repeat(140)}/z.sh`, mode: 0o755, content: '#!/bin/sh\n' },
      { path: 'b/empty', mode: 0o640, content: '' },
      { path: 'b/block', mode: 0o644, content: 'q'.repeat(512) },
    ];
    const dir = tempDir('tarw');
    const f = join(dir, 'x.tar');
    writeFileSync(f, tarBuffer(files));
    const into = join(dir, 'x');
    mkdirSync(into);
    tar(['-xpf', f, '-C', into]);
    const tree = readTree(into);
    expect([...tree.keys()].sort()).toEqual(files.map((x) => x.path).sort());
    for (const x of files) {
      expect(tree.get(x.path)!.content.toString()).toBe(x.content);
      expect(tree.get(x.path)!.mode).toBe(x.mode);
      expect(existsSync(dirname(join(into, x.path)))).toBe(true);
    }
  });

  it('the archive writer, encoding in place, writes the bytes of the encoder entry by entry (tar and tar.gz, pax paths, files larger than a batch)', async () => {
    const dir = tempDir('tarb');
    const part = fc.constantFrom('etc', 'hosts', 'h0', 'netplan', 'd'.repeat(120), 'x'.repeat(140), 'ü');
    const file = fc.record({
      dirs: fc.array(part, { minLength: 1, maxLength: 3 }),
      name: fc.constantFrom('a.conf', 'b.yaml', 'f'.repeat(90)),
      mode: fc.constantFrom(0o644, 0o600, 0o755),
      content: fc.oneof(fc.string({ maxLength: 700 }), fc.constantFrom('', 'q'.repeat(512), 'é'.repeat(300), 'z'.repeat(300_000))),
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(file, { maxLength: 12, selector: (f) => [...f.dirs, f.name].join('/') }), fc.constantFrom('tar' as const, 'tar.gz' as const), fc.boolean(), async (list, format, direct) => {
        const files = list.map((f) => ({ path: [...f.dirs, f.name].join('/'), mode: f.mode, content: f.content }));
        // what the writer must produce: the encoder's parts, directories first, as before in-place encoding
        const enc = new TarEncoder();
        const dirs = new DirTracker();
        const parts: Buffer[] = [];
        for (const f of files) {
          for (const d of dirs.missing(f.path)) parts.push(...enc.dir(d));
          parts.push(...enc.file(f.path, f.mode, Buffer.from(f.content, 'utf8')));
        }
        parts.push(enc.end());
        const path = join(dir, `t${n++}.${format}`);
        // direct: a plain tar opened with O_DIRECT, written through the native writer's aligned copy (src/render/output.ts directArchives)
        const w = new ArchiveWriter(path, format, { direct });
        if (direct && format === 'tar' && hasNativeWriter()) {
          const fd = (w as unknown as { fd: number }).fd;
          const flags = Number.parseInt(/flags:\s*(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
          expect(flags & constants.O_DIRECT).not.toBe(0);
        }
        for (const f of files) {
          const wait = w.file(f.path, f.mode, f.content);
          if (wait) await wait;
        }
        await w.close();
        const bytes = format === 'tar' ? readFileSync(path) : gunzipSync(readFileSync(path));
        expect(bytes.equals(Buffer.concat(parts))).toBe(true);
        expect(w.files).toBe(files.length);
        expect(w.bytes).toBe(files.reduce((t, f) => t + Buffer.byteLength(f.content), 0));
      }),
      { numRuns: 60 },
    );
  });

  it('writeDirectAsync writes every byte on an O_DIRECT file, and where the file system refuses an unaligned write it turns O_DIRECT off and writes through the page cache', async () => {
    const write = directWriteAsync();
    if (!write) return; // a build without the native writer never opens archives with O_DIRECT
    const dir = tempDir('direct');
    const data = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 1000 }, (_, i) => (i * 7) % 251)); // more than one aligned chunk, and a tail of 1,000 bytes
    const path = join(dir, 'x');
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, 0o644);
    try {
      expect(await write(fd, data.subarray(0, 512 * 4096), 0)).toBe(512 * 4096); // aligned: direct
      expect(await write(fd, data.subarray(512 * 4096), 512 * 4096)).toBe(data.length - 512 * 4096);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it('writeDirectAsync: writes in flight side by side land at their own offsets, and a failed one rejects with the errno', async () => {
    const write = directWriteAsync();
    if (!write) return;
    const dir = tempDir('direct-async');
    const chunk = 256 * 1024;
    const data = Buffer.from(Array.from({ length: 12 * chunk + 512 }, (_, i) => (i * 13) % 241));
    const path = join(dir, 'x');
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, 0o644);
    try {
      // last chunk first, all at once: each must go where its offset says, whatever order the pool's threads take them in
      const offsets = Array.from({ length: 13 }, (_, i) => i * chunk).reverse();
      const sizes = await Promise.all(offsets.map((at) => write(fd, data.subarray(at, Math.min(at + chunk, data.length)), at)));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(data.length);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path).equals(data)).toBe(true);
    await expect(write(-1, data.subarray(0, 512), 0)).rejects.toThrow(/EBADF/);
  });
});
