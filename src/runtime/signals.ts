/**
 * Ctrl-C and SIGTERM while a lab runs. The first signal only asks the run to
 * stop: its next step (checkInterrupted, waitFor, pause, a new namespace)
 * throws LabInterrupted, and the lab's own error path removes what it made,
 * once. Further signals meanwhile are ignored, so a second Ctrl-C cannot cut
 * the teardown short. The exit status is 128 + the signal number (130, 143).
 */
import { constants } from 'node:os';
import { LabError } from './exec.js';

/** A run stopped by a signal; everything it made has been removed. */
export class LabInterrupted extends LabError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'LabInterrupted';
  }

  /** 128 + the signal number: 130 for SIGINT, 143 for SIGTERM */
  get exitCode(): number {
    return 128 + (constants.signals[this.signal] as number | undefined ?? 0);
  }
}

interface Guard {
  what: string;
  signal?: NodeJS.Signals;
}

let active: Guard | undefined;

/** Each step of an interruptible run calls this: once a signal came, the run stops here. */
export function checkInterrupted(): void {
  if (active?.signal) throw new LabInterrupted(active.signal);
}

/**
 * Run `body` with SIGINT and SIGTERM caught (see the top of this file); `what`
 * names the run in the messages ("flat6 lab up"). Inside another
 * interruptible run, `body` simply runs under the outer one.
 */
export async function interruptible<T>(what: string, body: () => Promise<T>, stderr: (text: string) => void = (t) => void process.stderr.write(t)): Promise<T> {
  if (active) return body();
  const guard: Guard = { what };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (guard.signal) {
      stderr(`${what}: ${sig} ignored, already stopping and removing what was made\n`);
      return;
    }
    guard.signal = sig;
    stderr(`${what}: ${sig}, stopping and removing what was made\n`);
  };
  active = guard;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    active = undefined;
  }
}
