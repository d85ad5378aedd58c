/**
 * A steady ICMPv6 echo flow between two lab namespaces, for measuring how long
 * a fault interrupts traffic: `ping -D -O -n -i <interval>` runs in the source
 * namespace and every reply is kept with its (wall clock) timestamp, so the
 * gaps can be measured after the fault is over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { toolEnv } from '../runtime/exec.js';
import { now, sleep } from '../runtime/flow.js';

export interface PingGap {
  /** ms between the last reply before the gap and the first reply after it */
  ms: number;
  /** echo requests that got no reply in the gap */
  lost: number;
  /** wall-clock ms of the last reply before the gap and the first after */
  from: number;
  to: number;
}

export interface PingSummary {
  sent: number;
  replies: number;
  /** gaps longer than 3 intervals, in order */
  gaps: PingGap[];
  /** wall-clock ms of every reply, by sequence number */
  replyAt: Map<number, number>;
  /** ICMPv6 errors received ("Destination unreachable: No route", ...), by text, counted */
  errors: Map<string, number>;
}

const REPLY = /^\[(\d+\.\d+)\] \d+ bytes from .*? icmp_seq=(\d+)/;
const ERROR = /^\[(\d+\.\d+)\] From \S+ icmp_seq=(\d+) (.+)$/;
const SENT = /^(\d+) packets transmitted/;

/** Parse `ping -D -O` output (the reply lines, ICMPv6 errors and the summary line). */
export function parsePing(out: string, intervalMs: number): PingSummary {
  const replyAt = new Map<number, number>();
  const errors = new Map<string, number>();
  let sent = 0;
  for (const line of out.split('\n')) {
    let m = REPLY.exec(line);
    if (m) {
      const seq = Number(m[2]);
      if (!replyAt.has(seq)) replyAt.set(seq, Math.round(Number(m[1]) * 1000));
      continue;
    }
    m = ERROR.exec(line);
    if (m) {
      const text = m[3]!.trim();
      errors.set(text, (errors.get(text) ?? 0) + 1);
      continue;
    }
    m = SENT.exec(line);
    if (m) sent = Number(m[1]);
  }
  const seqs = [...replyAt.keys()].sort((a, b) => a - b);
  const gaps: PingGap[] = [];
  for (let i = 1; i < seqs.length; i++) {
    const a = seqs[i - 1]!;
    const b = seqs[i]!;
    const from = replyAt.get(a)!;
    const to = replyAt.get(b)!;
    if (b - a > 1 && to - from > 3 * intervalMs) gaps.push({ ms: to - from, lost: b - a - 1, from, to });
  }
  return { sent, replies: replyAt.size, gaps, replyAt, errors };
}

export class PingStream {
  private readonly child: ChildProcess;
  private out = '';
  private readonly done: Promise<void>;
  readonly startedAt = now();

  constructor(
    readonly fromNs: string,
    readonly to: string,
    readonly intervalMs: number,
  ) {
    // -W: how long ping waits for the last replies once it is told to stop
    const args = ['netns', 'exec', fromNs, 'ping', '-6', '-n', '-D', '-O', '-i', (intervalMs / 1000).toFixed(3), '-W', '1', to];
    this.child = spawn('ip', args, { env: toolEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.done = new Promise((resolve) => this.child.on('close', () => resolve()));
  }

  /** Wall-clock ms of the first reply at or after `t`, if any yet. */
  firstReplyAfter(t: number): number | undefined {
    let best: number | undefined;
    for (const m of this.out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from /gm)) {
      const at = Math.round(Number(m[1]) * 1000);
      if (at >= t && (best === undefined || at < best)) best = at;
    }
    return best;
  }

  /** Wait until a reply arrives at or after `t`; its wall-clock ms, or undefined after `timeoutMs`. */
  async replyAfter(t: number, timeoutMs: number): Promise<number | undefined> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const r = this.firstReplyAfter(t);
      if (r !== undefined || now() > deadline) return r;
      await sleep(Math.min(50, this.intervalMs));
    }
  }

  /** Stop (SIGINT, so ping prints its summary) and parse what it saw. */
  async stop(): Promise<PingSummary> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.done;
    clearTimeout(killer);
    return parsePing(this.out, this.intervalMs);
  }
}
