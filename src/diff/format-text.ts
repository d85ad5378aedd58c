/**
 * The terminal form: per stack, counts first, then what blocks, cluster
 * changes, nodes added and removed, and the file diffs (targets with the same
 * change shown once), each target's diff cut after MAX_TEXT_LINES lines with
 * a count of what was cut. Every value from a file passes through `inert`.
 */
import { formatDiagnostics } from '../core/diagnostics.js';
import {
  baseText,
  changeText,
  coverageLine,
  fileDiffText,
  fileStat,
  groupRenumbers,
  groupTargets,
  hostLine,
  namesText,
  plural,
  safe,
  statusText,
  where,
} from './summary.js';
import { MAX_LISTED, type DiffReport, type NodeRef, type StackDiff, type TargetDiff } from './types.js';

/** Diff lines shown per target (or group of targets with one change). */
export const MAX_TEXT_LINES = 120;
/** Targets (or groups of targets with one change) shown with their diff. */
export const MAX_TEXT_GROUPS = 40;
/** Names listed per list in the text form. */
const SHOW = 20;

function nodeList(nodes: readonly NodeRef[], count: number): string[] {
  const out = nodes.slice(0, SHOW).map((n) => `    ${n.name}  rack ${n.rack}  ${n.address}  pods ${n.podPrefix}`);
  if (count > out.length) out.push(`    ... and ${(count - out.length).toLocaleString('en-US')} more`);
  return out;
}

function targets(title: string, list: readonly TargetDiff[]): string[] {
  if (!list.length) return [];
  const out: string[] = [''];
  const groups = groupTargets(list);
  for (const g of groups.slice(0, MAX_TEXT_GROUPS)) {
    const who = g.names.length > 1 ? `${g.names.length} ${title} with the same change: ${namesText(g.names, 50)}` : `${title.replace(/s$/, '')} ${g.target.name}`;
    out.push(`${who}: ${fileStat(g.target)}`);
    const lines = g.target.files.flatMap((f) => fileDiffText(f, g.target.name));
    out.push(...lines.slice(0, MAX_TEXT_LINES).map((l) => `  ${l}`));
    if (lines.length > MAX_TEXT_LINES) out.push(`  ... ${plural(lines.length - MAX_TEXT_LINES, 'more line')} cut (--format json keeps each file's diff)`);
  }
  if (groups.length > MAX_TEXT_GROUPS) {
    const rest = groups.slice(MAX_TEXT_GROUPS).flatMap((g) => g.names);
    out.push(`... and ${rest.length.toLocaleString('en-US')} more ${title} with changed files, not shown: ${namesText(rest, 20)} (--format json has them)`);
  }
  return out;
}

export function formatStackText(d: StackDiff, allowRenumber: boolean): string {
  const L: string[] = [];
  L.push(`== ${d.stack} (${d.file}): ${statusText(d)}`);
  if (d.status === 'error' && d.error) {
    L.push(d.error.diagnostics.length ? formatDiagnostics(d.error.diagnostics).trimEnd() : d.error.message);
    return L.join('\n');
  }
  L.push(`${d.pools ? 'pools ' : 'hosts '}     ${hostLine(d)}`);
  const r = d.racks;
  if (r.addedCount + r.removedCount + r.changedCount) {
    const parts: string[] = [];
    if (r.addedCount) parts.push(`${r.addedCount.toLocaleString('en-US')} added (${namesText(r.added, 8)})`);
    if (r.removedCount) parts.push(`${r.removedCount.toLocaleString('en-US')} removed (${namesText(r.removed, 8)})`);
    if (r.changedCount) parts.push(`${r.changedCount.toLocaleString('en-US')} changed`);
    L.push(`racks      ${parts.join('; ')}`);
    for (const c of r.changed.slice(0, 8)) L.push(`           ${c.name}: ${c.what}`);
    if (r.changedCount > 8) L.push(`           ... and ${(r.changedCount - 8).toLocaleString('en-US')} more`);
  }
  if (d.templates.length) L.push(`templates  changed: ${d.templates.join(', ')}`);
  if (d.status !== 'added' && d.status !== 'removed') {
    if (!d.pools) {
      L.push(`files      ${coverageLine(d.hostCoverage, 'host')}`);
      L.push(`fabric     ${coverageLine(d.routerCoverage, 'router')}${d.routersAdded.length ? `; added: ${namesText(d.routersAdded, 8)}` : ''}${d.routersRemoved.length ? `; removed: ${namesText(d.routersRemoved, 8)}` : ''}`);
    } else {
      L.push(`node pools ${d.pools.length} with changed files${d.poolsAdded?.length ? `; added: ${d.poolsAdded.join(', ')}` : ''}${d.poolsRemoved?.length ? `; removed: ${d.poolsRemoved.join(', ')}` : ''}`);
    }
  }
  for (const n of d.notes) L.push(`note: ${safe(n)}`);

  if (d.renumber.length) {
    L.push('');
    L.push(`RENUMBER: ${plural(d.counts.renumbered, 'node')} present on both sides get a new address, pod prefix, rack or gateway${allowRenumber ? ' (allowed by --allow-renumber)' : ''}:`);
    for (const g of groupRenumbers(d.renumber)) {
      for (const c of g.causes) L.push(`  ${[where(c.location), c.path ? `(${c.path})` : ''].filter(Boolean).join(' ')}: ${safe(c.why)}`);
      for (const n of g.nodes) L.push(`    ${n.node}: ${changeText(n)}`);
    }
    if (d.counts.renumbered > d.renumber.length) L.push(`  ... and ${(d.counts.renumbered - d.renumber.length).toLocaleString('en-US')} more (the first ${MAX_LISTED} are named)`);
  }
  const disruptive = d.cluster.filter((c) => c.disruptive);
  if (disruptive.length) {
    L.push('');
    L.push(`DISRUPTIVE: ${plural(disruptive.length, 'change')} a live cluster cannot take${allowRenumber ? ' (allowed by --allow-renumber)' : ''}:`);
    for (const c of disruptive) L.push(`  ${[where(c.location), `${c.section === 'flat6:cluster' ? '' : `${c.section} `}${c.path}`].filter(Boolean).join(' ')}: ${safe(c.old ?? '(unset)')} -> ${safe(c.new ?? '(unset)')}: ${c.disruptive!}`);
  }
  const plain = d.cluster.filter((c) => !c.disruptive);
  if (plain.length) {
    L.push('');
    L.push('cluster changes:');
    for (const c of plain) {
      const field = c.section === 'flat6:cluster' ? c.path : `${c.section}${c.path ? `.${c.path}` : ''}`;
      L.push(`  ${field}: ${safe(c.old ?? '(unset)')} -> ${safe(c.new ?? '(unset)')}${c.location ? `  (${where(c.location)})` : ''}`);
    }
  }
  if (d.counts.added) {
    L.push('');
    L.push(`added ${plural(d.counts.added, 'node')}:`);
    L.push(...nodeList(d.added, d.counts.added));
  }
  if (d.counts.removed) {
    L.push('');
    L.push(`removed ${plural(d.counts.removed, 'node')}:`);
    L.push(...nodeList(d.removed, d.counts.removed));
  }
  L.push(...targets('hosts', d.hosts));
  L.push(...targets('routers', d.routers));
  if (d.pools) L.push(...targets('pools', d.pools));
  return L.map((l) => safe(l)).join('\n');
}

export function formatText(report: DiffReport): string {
  const out: string[] = [`flat6 diff against ${baseText(report.base)}`, ''];
  for (const d of report.stacks) out.push(formatStackText(d, report.allowRenumber), '');
  const blocked = report.stacks.filter((d) => d.blocked).map((d) => d.stack);
  const failed = report.stacks.filter((d) => d.status === 'error').map((d) => d.stack);
  if (failed.length) out.push(`failed: ${failed.join(', ')} (the stack does not load or pass its checks)`);
  if (blocked.length) out.push(`blocked: ${blocked.join(', ')}: renumbering or disruptive changes; pass --allow-renumber once a live cluster can take them`);
  const allowed = report.stacks.filter((d) => !d.blocked && d.blocks.length);
  if (allowed.length) out.push(`allowed by --allow-renumber: ${allowed.map((d) => `${d.stack} (${d.blocks.join(', ')})`).join(', ')}`);
  if (!failed.length && !blocked.length) out.push(`no blocking change in ${plural(report.stacks.length, 'stack')}`);
  return out.join('\n') + '\n';
}
