#!/usr/bin/env node
// Builds flat6's native file writer (native/write.c) into
// dist/native/flat6_write.node with the system C compiler and Node's own
// headers (Node-API, so one build serves every Node from 20 on). Run by
// `npm run build`. Linux only; where there is no compiler, no headers, or the
// compiler fails, it says so and exits 0: flat6 then writes files from JavaScript
// (src/sinks/native-writer.ts), with the same bytes, only slower.
//
// The headers are looked up where npm builds addons against them
// (npm_config_nodedir, e.g. /usr on Debian's nodejs) and under this Node's
// install prefix; nothing is downloaded.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'native', 'flat6_write.node');

function skip(why) {
  rmSync(out, { force: true });
  console.log(`native writer: not built (${why}); files are written from JavaScript`);
  process.exit(0);
}

if (process.env.FLAT6_NATIVE === '0') skip('FLAT6_NATIVE=0');
if (process.platform !== 'linux') skip(`${process.platform} is not Linux`);
const prefixes = [process.env.npm_config_nodedir, dirname(dirname(process.execPath)), '/usr/local', '/usr'].filter(Boolean);
const include = prefixes.map((p) => join(p, 'include', 'node')).find((d) => existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));
if (!include) skip(`no Node headers (node_api.h, uv.h) under ${prefixes.join(', ')}`);
const cc = process.env.CC || 'cc';
mkdirSync(dirname(out), { recursive: true });
const args = ['-O2', '-Wall', '-Wextra', '-std=gnu11', '-shared', '-fPIC', '-fvisibility=hidden', `-I${include}`, '-o', `${out}.tmp`, join(root, 'native', 'write.c')];
const r = spawnSync(cc, args, { encoding: 'utf8' });
if (r.error) skip(`${cc}: ${r.error.message}`);
if (r.status !== 0) {
  rmSync(`${out}.tmp`, { force: true });
  // an install must not fail on an optional accelerator; test/writers.test.ts fails where headers exist and no writer was built
  console.error(`native writer: ${cc} ${args.join(' ')} failed:\n${r.stderr}`);
  skip(`${cc} failed`);
}
if (r.stderr.trim()) console.error(`native writer: ${cc} warned:\n${r.stderr}`);
renameSync(`${out}.tmp`, out);
console.log(`native writer: ${out}`);
