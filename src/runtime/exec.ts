/**
 * Running the real tools (ip, sysctl, netplan, bird, keepalived, the CNI
 * plugins, ...) as child processes, inside network namespaces where asked.
 * `run` is asynchronous; `runSync` is for teardown, which must also work from
 * process exit handlers.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A failure of a lab itself (not of a check): everything the run made is removed, exit status 1. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

/** Progress lines of a lab. */
export type Log = (line: string) => void;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** kill the process after this long (default 60 s; runSync: 10 s) */
  timeoutMs?: number;
}

/** PATH with the sbin directories, where iproute2, sysctl, netplan, bird and keepalived live. */
export function toolPath(env: NodeJS.ProcessEnv = process.env): string {
  const parts = (env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter);
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!parts.includes(d)) parts.push(d);
  return parts.join(delimiter);
}

/** The environment a tool runs in: `env` (default: this process's) with toolPath(). */
export function toolEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, PATH: toolPath(env) };
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
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const child = spawn(cmd, args, { env: toolEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let done = false;
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
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
    child.on('close', (code, signal) => { finish(code ?? (signal ? 128 : 1)); });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Run to completion without an event-loop turn; never throws (a failure is a non-zero code). */
export function runSync(cmd: string, args: string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(cmd, args, { env: toolEnv(opts.env), input: opts.input ?? '', encoding: 'utf8', timeout: opts.timeoutMs ?? 10_000, killSignal: 'SIGKILL' });
  return { code: r.status ?? (r.error ? 127 : 128), stdout: r.stdout, stderr: r.stderr + (r.error ? r.error.message : '') };
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
