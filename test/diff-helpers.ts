/**
 * Git fixture repositories for the flat6 diff tests: a temporary repository
 * with a base commit and a head commit, and `flat6 diff` run inside it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DiffReport, StackDiff } from '../src/diff/types.js';
import { cli, ROOT, tempDir, type CliResult } from './helpers.js';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'flat6 test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'flat6 test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Write files (null deletes) under `dir`. */
export function writeFiles(dir: string, files: Record<string, string | null>): void {
  for (const [path, text] of Object.entries(files)) {
    const p = join(dir, path);
    if (text === null) rmSync(p, { force: true });
    else {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
    }
  }
}

/** A new repository holding `files` in one commit ("base"); `templates` copies flat6's templates/ in too. */
export function fixtureRepo(files: Record<string, string>, opts: { templates?: boolean } = {}): string {
  const dir = tempDir('diff-repo');
  git(dir, 'init', '-q', '-b', 'main');
  writeFiles(dir, files);
  if (opts.templates) cpSync(join(ROOT, 'templates'), join(dir, 'templates'), { recursive: true });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  return dir;
}

/** Change files and commit ("head"). */
export function commit(dir: string, files: Record<string, string | null>, message = 'head'): void {
  writeFiles(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
}

export function diff(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return cli(['diff', ...args], { cwd: dir, env });
}

/** `flat6 diff --format json`: the report and the exit status. */
export async function diffJson(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; report: DiffReport; stack: StackDiff; stderr: string }> {
  const r = await diff(dir, [...args, '--format', 'json'], env);
  let report: DiffReport;
  try {
    report = JSON.parse(r.stdout) as DiffReport;
  } catch {
    throw new Error(`flat6 diff ${args.join(' ')} printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, report, stack: report.stacks[0], stderr: r.stderr };
}

/** A small bare-metal stack: racks without index (the list position decides), one control-plane node. */
export function fixtureStack(opts: { racks?: string; dns?: string; name?: string; extra?: string } = {}): string {
  return `config:
  flat6:cluster:
    name: ${opts.name ?? 'fx'}
    kubernetesVersion: v1.33.4
    network:
      nodes: "2001:db8:100::/56"
      pods: "2001:db8:4200::/48"
      services: "2001:db8:43::/112"
      dns: ${opts.dns ?? '["2001:db8:53::53"]'}
    layout:
      slotsPerRack: 64
    controlPlane:
      count: 1
      rack: a
      vip: "2001:db8:100::100"
${opts.extra ?? ''}    racks:
${opts.racks ?? '      - { name: a, nodes: 2 }\n      - { name: b, nodes: 2 }\n'}`;
}

export const FX = 'stacks/Pulumi.fx.yaml';

/** Names of the targets (hosts, routers or pools) whose files changed. */
export function names(list: ReadonlyArray<{ name: string }>): string[] {
  return list.map((t) => t.name).sort();
}

/** Paths of the files a target's diff holds. */
export function paths(t: { files: ReadonlyArray<{ path: string }> }): string[] {
  return t.files.map((f) => f.path).sort();
}
