/** BIRD 2 in lab namespaces: start from a rendered config, ask it over its own control socket. */
import { existsSync, readFileSync } from 'node:fs';
import { LabError, must, run } from '../runtime/exec.js';
import type { BirdRecord } from './state.js';

/** Start BIRD in its namespace; it daemonizes and writes its PID file. */
export async function startBird(b: BirdRecord): Promise<void> {
  await must('ip', ['netns', 'exec', b.ns, 'bird', '-c', b.config, '-s', b.ctl, '-P', b.pidFile]);
}

export async function birdc(ctl: string, command: string[]): Promise<string> {
  const r = await run('birdc', ['-s', ctl, ...command], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new LabError(`birdc -s ${ctl} ${command.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export interface BirdProtocol {
  name: string;
  proto: string;
  state: string;
  info: string;
}

/** `show protocols`, parsed. */
export async function protocols(ctl: string): Promise<BirdProtocol[]> {
  const out = await birdc(ctl, ['show', 'protocols']);
  const rows: BirdProtocol[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+(?: \S+:\S+)?)\s*(.*)$/.exec(line);
    if (!m || m[1] === 'Name' || line.startsWith('BIRD ')) continue;
    rows.push({ name: m[1]!, proto: m[2]!, state: m[4]!, info: m[6]!.trim() });
  }
  return rows;
}

/** Load another configuration file into a running BIRD (protocols whose configuration is unchanged keep running). */
export async function configure(ctl: string, file: string): Promise<void> {
  const out = await birdc(ctl, ['configure', JSON.stringify(file)]);
  if (!/Reconfigured|Reconfiguration in progress/.test(out)) throw new LabError(`BIRD did not take ${file}: ${out.trim()}`);
}

export function birdPid(b: BirdRecord): number | undefined {
  if (!existsSync(b.pidFile)) return undefined;
  const pid = Number(readFileSync(b.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
