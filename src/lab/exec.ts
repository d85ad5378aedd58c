/**
 * Running the real tools (ip, sysctl, netplan, bird, the CNI plugins) as
 * child processes, inside network namespaces where asked.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A failure of the lab itself (not of a check): exit status 1, everything the run made is removed. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** kill the process after this long (default 60 s) */
  timeoutMs?: number;
}

/** PATH with the sbin directories, where iproute2, sysctl, netplan and bird live. */
export function toolPath(env: NodeJS.ProcessEnv = process.env): string {
  const parts = (env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter);
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!parts.includes(d)) parts.push(d);
  return parts.join(delimiter);
}

/** Absolute path of a tool, or undefined. */
export function which(tool: string): string | undefined {
  for (const d of toolPath().split(delimiter)) {
    const p = join(d, tool);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const env = { ...(opts.env ?? process.env), PATH: toolPath(opts.env ?? process.env) };
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let done = false;
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs ?? 60_000} ms)`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => void (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    };
    child.on('error', (e) => {
      stderr += e.message;
      finish(127);
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

function describe(cmd: string, args: string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Run and return stdout; throw LabError naming the command and its stderr on failure. */
export async function must(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new LabError(`${describe(cmd, args)} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** `ip netns exec NS cmd args...` */
export function inNs(ns: string, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

export function mustInNs(ns: string, cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return must('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** Several iproute2 commands in one process (`ip -n NS -batch -`); stops at the first failure. */
export async function ipBatch(ns: string, commands: string[]): Promise<void> {
  if (commands.length === 0) return;
  const r = await run('ip', ['-n', ns, '-batch', '-'], { input: commands.join('\n') + '\n' });
  if (r.code !== 0) throw new LabError(`ip -n ${ns} -batch failed: ${(r.stderr || r.stdout).trim()}\ncommands:\n  ${commands.join('\n  ')}`);
}

/** `ip -n NS -j ...` parsed. */
export async function ipJson<T>(ns: string, args: string[]): Promise<T> {
  const out = await must('ip', ['-n', ns, '-j', ...args]);
  return (out.trim() === '' ? [] : JSON.parse(out)) as T;
}

/** Map over items with at most `limit` running at once; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        if (failed === undefined) failed = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` every `stepMs` until it holds; LabError naming `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new LabError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** true while `pid` runs (a zombie counts as gone). */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
