/**
 * What the text and markdown formats share: one-line summaries, renumbered
 * nodes grouped by the stack line that moved them, and targets grouped by
 * identical changes (a DNS change shows one netplan diff for every host).
 */
import type { SourceLocation } from '../core/diagnostics.js';
import type { BaseRef, Coverage, Renumber, RenumberCause, StackDiff, TargetDiff } from './types.js';

/**
 * Control characters (but tab) as \\uXXXX: text quoted from a stack file or a
 * rendered file must not move a terminal's cursor or fake another line.
 */
export function safe(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) {
      out += text.slice(from, i) + `\\u${c.toString(16).padStart(4, '0')}`;
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

export function where(loc: SourceLocation | undefined): string {
  return loc ? `${loc.file}:${loc.line}:${loc.col}` : '';
}

export function baseText(b: BaseRef): string {
  return b.kind === 'git' ? `${b.ref} (${b.commit.slice(0, 12)})` : `the render in ${b.dir}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

export function statusText(d: StackDiff): string {
  if (d.status === 'error') return `ERROR (exit ${d.error?.exitCode ?? 1})`;
  if (d.blocked) return `BLOCKED (${d.blocks.join(', ')})`;
  if (d.blocks.length) return `allowed: ${d.blocks.join(', ')}`;
  return d.status;
}

/** "14 -> 16 hosts: 2 added, 0 removed, 10 renumbered" */
export function hostLine(d: StackDiff): string {
  const c = d.counts;
  if (d.pools) return `${c.hostsBase} -> ${plural(c.hostsHead, 'node pool')} (control-plane nodes and worker pools)${c.renumbered ? `, ${c.renumbered} control-plane node(s) renumbered` : ''}`;
  return `${c.hostsBase.toLocaleString('en-US')} -> ${plural(c.hostsHead, 'host')}: ${c.added.toLocaleString('en-US')} added, ${c.removed.toLocaleString('en-US')} removed, ${c.renumbered.toLocaleString('en-US')} renumbered`;
}

export function coverageLine(c: Coverage, what: string): string {
  if (c.all) return `${plural(c.rendered, what)} compared with the render directory, ${c.changed} with changed files`;
  if (c.inputsChanged === 0 && c.rendered === 0) return `no ${what} inputs changed`;
  const parts = [`${plural(c.inputsChanged, what)} with changed inputs`];
  if (c.broad) parts.push(c.broad);
  parts.push(c.sampled ? `a sample of ${c.rendered} rendered, ${c.changed} of them with changed files` : `${c.rendered} rendered, ${c.changed} with changed files`);
  return parts.join('; ');
}

export function changeText(r: Renumber): string {
  const name = { address: 'address', podPrefix: 'pod prefix', rack: 'rack', gateway: 'gateway' } as const;
  return r.changes.map((c) => `${name[c.field]} ${c.old} -> ${c.new}`).join(', ');
}

export interface CauseGroup {
  causes: RenumberCause[];
  nodes: Renumber[];
}

/** Renumbered nodes grouped by their causes, in first-seen order. */
export function groupRenumbers(list: readonly Renumber[]): CauseGroup[] {
  const groups = new Map<string, CauseGroup>();
  for (const r of list) {
    const key = JSON.stringify(r.causes.map((c) => [c.path, c.why]));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { causes: r.causes, nodes: [] }));
    g.nodes.push(r);
  }
  return [...groups.values()];
}

export interface TargetGroup {
  names: string[];
  /** the first target's diff stands for the group */
  target: TargetDiff;
}

/** Targets whose files changed the same way (same files, same removed and added lines), in first-seen order. */
export function groupTargets(list: readonly TargetDiff[]): TargetGroup[] {
  const groups = new Map<string, TargetGroup>();
  for (const t of list) {
    const key = JSON.stringify(
      t.files.map((f) => [
        f.path,
        f.status,
        f.oldMode,
        f.newMode,
        f.diff
          .split('\n')
          .filter((l) => l.startsWith('-') || l.startsWith('+'))
          .join('\n'),
        f.cut,
      ]),
    );
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { names: [], target: t }));
    g.names.push(t.name);
  }
  return [...groups.values()];
}

export function namesText(names: readonly string[], max = 12): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${(names.length - max).toLocaleString('en-US')} more`;
}

export function fileStat(t: TargetDiff): string {
  return t.files.map((f) => `${f.path} (${f.status === 'changed' ? `-${f.removed} +${f.added}${f.newMode && f.oldMode ? `, mode ${f.oldMode} -> ${f.newMode}` : ''}` : f.status})`).join(', ');
}

/** A file's diff with its header, as diff text. */
export function fileDiffText(f: TargetDiff['files'][number], target: string): string[] {
  const a = f.status === 'added' ? '/dev/null' : `a/${target}/${f.path}`;
  const b = f.status === 'removed' ? '/dev/null' : `b/${target}/${f.path}`;
  const lines = [`--- ${a}`, `+++ ${b}`];
  if (f.oldMode && f.newMode && f.oldMode !== f.newMode) lines.unshift(`mode ${f.oldMode} -> ${f.newMode}`);
  if (f.diff) lines.push(...f.diff.split('\n'));
  if (f.cut) lines.push(`... ${plural(f.cut, 'more diff line')} of this file not kept`);
  return lines;
}
