/**
 * Processes of the failover lab: commands run to completion (`run`), and
 * long-running daemons (`Daemon`) whose output goes to a log file and, line by
 * line, to a callback. Each daemon leads its own process group and carries a
 * parent-death signal, so nothing outlives the lab even if flat6 is killed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { LabError, sleep, waitFor } from '../lab/exec.js';

export { LabError, sleep, waitFor };

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Run a command to completion; throw LabError naming the command and its stderr on failure. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): RunResult {
  try {
    const stdout = execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 10_000,
      input: opts.input,
      killSignal: 'SIGKILL',
    });
    return { stdout, stderr: '' };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; status?: number | null };
    const detail = (err.stderr ?? '').toString().trim() || err.message;
    throw new LabError(`${cmd} ${args.join(' ')} failed: ${detail}`);
  }
}

/** Like run, but never throws: for teardown, where every step must be tried. */
export function tryRun(cmd: string, args: string[], timeoutMs = 5_000): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
    return true;
  } catch {
    return false;
  }
}

/** Sleep without an event loop turn (teardown runs from exit and signal handlers). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}


/** State letter and process group of a process from /proc/<pid>/stat, or undefined when it is gone. */
function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** True while the process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = procStat(Number(entry));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') out.push(Number(entry));
  }
  return out;
}

export interface DaemonOptions {
  /** signal the kernel sends the daemon when flat6 dies */
  deathSignal?: 'KILL' | 'TERM';
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** A long-running process in its own process group, logging to `logFile`. */
export class Daemon {
  readonly name: string;
  readonly argv: string[];
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private log: number;
  private exitInfo?: string;

  constructor(name: string, argv: string[], logFile: string, private readonly opts: DaemonOptions = {}) {
    this.name = name;
    this.argv = argv;
    this.log = openSync(logFile, 'a', 0o600);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** why it stopped, once it has */
  get exit(): string | undefined {
    return this.exitInfo;
  }

  start(): void {
    if (this.running) throw new LabError(`${this.name} is already running`);
    this.exitInfo = undefined;
    const [cmd, ...args] = ['setpriv', `--pdeathsig=${this.opts.deathSignal ?? 'KILL'}`, '--', ...this.argv];
    const shown = this.argv.map((a) => (a.includes('\n') ? '<program>' : a)).join(' ');
    writeSync(this.log, `--- ${new Date().toISOString()} start: ${shown}\n`);
    const child = spawn(cmd!, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    for (const stream of ['stdout', 'stderr'] as const) {
      let buf = '';
      child[stream]!.setEncoding('utf8');
      child[stream]!.on('data', (chunk: string) => {
        try {
          writeSync(this.log, chunk);
        } catch {
          // log closed during teardown
        }
        if (!this.opts.onLine) return;
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          this.opts.onLine(buf.slice(0, nl), stream);
          buf = buf.slice(nl + 1);
        }
      });
    }
    this.exited = new Promise((resolve) => {
      child.on('error', (e) => {
        this.exitInfo = `could not start: ${e.message}`;
        resolve();
      });
      child.on('exit', (code, signal) => {
        this.exitInfo = signal ? `killed by ${signal}` : `exited with status ${code}`;
        resolve();
      });
    });
  }

  /** Resolves with true when the process has exited within `ms`. */
  async waitExit(ms: number): Promise<boolean> {
    if (!this.exited || !this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
    clearTimeout(timer);
    return done;
  }

  /** Graceful stop (SIGTERM to the process), SIGKILL to its group after `graceMs`. */
  async stop(graceMs = 3_000): Promise<void> {
    if (!this.running || this.child?.pid === undefined) return;
    this.signal('SIGTERM', false);
    if (!(await this.waitExit(graceMs))) {
      this.signal('SIGKILL', true);
      await this.waitExit(2_000);
    }
  }

  /** Teardown, step 1: ask the process to stop (SIGTERM to the process itself). */
  terminate(): void {
    if (this.running) this.signal('SIGTERM', false);
  }

  /** Teardown: true once the process has ended (zombies count as ended). */
  ended(): boolean {
    const pid = this.child?.pid;
    return pid === undefined || !this.running || !isAlive(pid);
  }

  /** Teardown, last step: SIGKILL whatever is left of its process group. */
  killGroup(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    if (!this.ended() || groupMembers(pid).length > 0) this.signal('SIGKILL', true);
  }

  signal(sig: NodeJS.Signals, group: boolean): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(group ? -pid : pid, sig);
    } catch {
      // already gone
    }
  }

  close(): void {
    try {
      closeSync(this.log);
    } catch {
      // already closed
    }
  }
}
