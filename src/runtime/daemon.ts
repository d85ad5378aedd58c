/**
 * Long-running processes of a lab (keepalived, haproxy, the probes): output
 * to a log file (when given) and, line by line, to a callback. Each daemon
 * leads its own process group, so a terminal's Ctrl-C reaches only flat6,
 * which then stops it; and it carries a parent-death signal, so nothing
 * outlives the lab even if flat6 is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { LabError, toolEnv } from './exec.js';
import { groupMembers, isAlive, signalPid } from './proc.js';

export interface DaemonOptions {
  /** appended to, mode 0600 */
  logFile?: string;
  /** signal the kernel sends the daemon when flat6 dies (default KILL) */
  deathSignal?: 'KILL' | 'TERM';
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

interface LineWaiter {
  pattern: RegExp;
  resolve: (line: string) => void;
}

/** The last bytes of output kept for error messages when there is no log file. */
const TAIL = 2_000;

export class Daemon {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private log?: number;
  private exitInfo?: string;
  private tail = '';
  private waiters: LineWaiter[] = [];

  constructor(
    readonly name: string,
    readonly argv: string[],
    private readonly opts: DaemonOptions = {},
  ) {
    if (opts.logFile) this.log = openSync(opts.logFile, 'a', 0o600);
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
    this.write(`--- ${new Date().toISOString()} start: ${this.argv.join(' ')}\n`);
    const child = spawn('setpriv', [`--pdeathsig=${this.opts.deathSignal ?? 'KILL'}`, '--', ...this.argv], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: toolEnv() });
    this.child = child;
    for (const stream of ['stdout', 'stderr'] as const) {
      let buf = '';
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        this.write(chunk);
        if (!this.log) this.tail = (this.tail + chunk).slice(-TAIL);
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          this.line(buf.slice(0, nl), stream);
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

  private write(text: string): void {
    if (this.log === undefined) return;
    try {
      writeSync(this.log, text);
    } catch {
      // log closed during teardown
    }
  }

  private line(line: string, stream: 'stdout' | 'stderr'): void {
    this.opts.onLine?.(line, stream);
    if (stream !== 'stdout') return;
    for (const w of this.waiters.filter((x) => x.pattern.test(line))) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(line);
    }
  }

  /** Where to look when it failed: its log file, or the end of its output. */
  private evidence(): string {
    if (this.opts.logFile) return `; see ${this.opts.logFile}`;
    return this.tail.trim() ? `: ${this.tail.trim()}` : '';
  }

  /**
   * Resolves with the first line of its stdout matching `pattern` from now on
   * (call right after start()); LabError naming `what` when the process exits
   * first or nothing matched within `ms`.
   */
  async waitLine(pattern: RegExp, ms: number, what: string): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    let waiter: LineWaiter | undefined;
    const matched = new Promise<string>((resolve) => {
      waiter = { pattern, resolve };
      this.waiters.push(waiter);
    });
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => { reject(new LabError(`${what} did not start within ${ms / 1000} s${this.evidence()}`)); }, ms);
      void this.exited?.then(() => setImmediate(() => { reject(new LabError(`${what} ${this.exitInfo}${this.evidence()}`)); }));
    });
    try {
      return await Promise.race([matched, failed]);
    } finally {
      clearTimeout(timer);
      this.waiters = this.waiters.filter((x) => x !== waiter);
    }
  }

  /** Resolves with true when the process has exited within `ms`. */
  async waitExit(ms: number): Promise<boolean> {
    if (!this.exited || !this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => { r(false); }, ms)))]);
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

  /** Its process and what is left of its group (empty once all are gone). */
  remaining(): number[] {
    const pid = this.child?.pid;
    if (pid === undefined) return [];
    return [...new Set([pid, ...groupMembers(pid)])].filter(isAlive);
  }

  signal(sig: NodeJS.Signals, group: boolean): void {
    const pid = this.child?.pid;
    if (pid !== undefined) signalPid(group ? -pid : pid, sig);
  }

  close(): void {
    if (this.log === undefined) return;
    try {
      closeSync(this.log);
    } catch {
      // already closed
    }
    this.log = undefined;
  }
}
