/** What a lab needs from the machine: root and the real tools, each missing one named with its Debian package. */
import { existsSync } from 'node:fs';
import { UsageError } from '../core/diagnostics.js';
import { which } from './exec.js';

export interface Requirements {
  /** the lab, in messages: "the lab", "the failover lab" */
  name: string;
  /** why it needs root: "creates network namespaces, veth pairs and routes" */
  needsRoot: string;
  /** how to run it as root: "sudo flat6 lab ..." */
  sudo: string;
  /** [tool on PATH (sbin included), Debian package] */
  tools: ReadonlyArray<readonly [string, string]>;
  /** [file or directory that must exist, Debian package] */
  paths?: ReadonlyArray<readonly [string, string]>;
}

/** Every problem, one line each: not root; the tools and files missing, with the packages to install. */
export function missingRequirements(r: Requirements): string[] {
  const problems: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    problems.push(`${r.name} ${r.needsRoot}, which needs root: run it as root (e.g. ${r.sudo})`);
  }
  const missing = [...r.tools.filter(([t]) => !which(t)), ...(r.paths ?? []).filter(([p]) => !existsSync(p))];
  if (missing.length) {
    const packages = [...new Set(missing.map(([, pkg]) => pkg))];
    problems.push(`${r.name} runs real tools that are missing here (${missing.map(([what]) => what).join(', ')}): install ${packages.join(', ')} (bash scripts/install-test-deps.sh installs them all)`);
  }
  return problems;
}

/** Root and the real tools, or a UsageError saying what to do. */
export function preflight(r: Requirements): void {
  const problems = missingRequirements(r);
  if (problems.length) throw new UsageError(problems.join('\n'));
}
