/**
 * GitHub-flavoured markdown for a pull-request comment: a table of stacks,
 * then per stack what blocks, the cluster changes and the nodes added and
 * removed, then the file diffs in collapsible <details> blocks (targets with
 * the same change shown once). The whole stays under GitHub's comment limit
 * of 65,536 characters: what does not fit is left out with a note saying so.
 *
 * Text from stack files and rendered files reaches the comment only inside
 * code spans, fenced code blocks (fences longer than any backtick run inside)
 * or escaped, so it cannot add markdown or HTML of its own.
 */
import { formatDiagnostics } from '../core/diagnostics.js';
import { baseText, changeText, coverageLine, fileDiffText, fileStat, groupRenumbers, groupTargets, hostLine, namesText, plural, safe, statusText, where } from './summary.js';
import type { DiffReport, NodeRef, StackDiff, TargetDiff } from './types.js';

/** GitHub refuses comments longer than this. */
export const GITHUB_COMMENT_LIMIT = 65536;
/** What this format writes at most: room is left for a sticky-comment marker and the truncation note. */
export const MARKDOWN_LIMIT = GITHUB_COMMENT_LIMIT - 2048;

/** Markdown-escape plain text (backslash before every character markdown or HTML could read). */
export function mdText(s: string): string {
  return safe(s).replace(/[\\`*_{}[\]<|~&$]/g, '\\$&');
}

function longestRun(s: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of s) {
    run = c === ch ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/** An inline code span holding `s` literally; `inTable` escapes pipes as GFM tables need. */
export function mdCode(s: string, inTable = false): string {
  let t = safe(s).replace(/\r?\n/g, ' ');
  if (inTable) t = t.replace(/\|/g, '\\|');
  const fence = '`'.repeat(longestRun(t, '`') + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || t === '' ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

function html(s: string): string {
  return safe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A fenced code block of `lang` holding `body` literally. */
export function mdFence(body: string, lang = ''): string {
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  return `${fence}${lang}\n${body.split('\n').map(safe).join('\n')}\n${fence}`;
}

/** Appends parts while they fit; counts what did not. */
class Budget {
  private readonly parts: string[] = [];
  private used = 0;
  omitted = 0;
  constructor(private readonly limit: number) {}
  get left(): number {
    return this.limit - this.used;
  }
  add(s: string): boolean {
    if (s.length + 1 > this.left) {
      this.omitted++;
      return false;
    }
    this.parts.push(s);
    this.used += s.length + 1;
    return true;
  }
  text(): string {
    return this.parts.join('\n');
  }
}

function nodesLine(title: string, nodes: readonly NodeRef[], count: number): string {
  const shown = nodes.slice(0, 40).map((n) => mdCode(n.name));
  const more = count - shown.length;
  return `**${title}** (${count.toLocaleString('en-US')}): ${shown.join(', ')}${more > 0 ? ` and ${more.toLocaleString('en-US')} more` : ''}`;
}

function essentials(d: StackDiff, allow: boolean, b: Budget): void {
  b.add(`### ${mdText(d.stack)}: ${mdText(statusText(d))}`);
  b.add('');
  b.add(mdCode(d.file));
  b.add('');
  if (d.status === 'error' && d.error) {
    b.add(mdFence(d.error.diagnostics.length ? formatDiagnostics(d.error.diagnostics).trimEnd() : d.error.message));
    b.add('');
    return;
  }
  const c = d.counts;
  const lines = [
    d.pools
      ? `- node pools: ${mdText(hostLine(d))}`
      : `- hosts: ${c.hostsBase.toLocaleString('en-US')} → ${c.hostsHead.toLocaleString('en-US')} (${c.added.toLocaleString('en-US')} added, ${c.removed.toLocaleString('en-US')} removed, ${c.renumbered.toLocaleString('en-US')} renumbered)`,
  ];
  const r = d.racks;
  if (r.addedCount) lines.push(`- racks added (${r.addedCount.toLocaleString('en-US')}): ${mdText(namesText(r.added, 12))}`);
  if (r.removedCount) lines.push(`- racks removed (${r.removedCount.toLocaleString('en-US')}): ${mdText(namesText(r.removed, 12))}`);
  if (r.changedCount) lines.push(`- racks changed (${r.changedCount.toLocaleString('en-US')}): ${mdText(namesText(r.changed.map((x) => `${x.name}: ${x.what}`), 12))}`);
  if (d.templates.length) lines.push(`- templates changed: ${d.templates.map((t) => mdCode(t)).join(', ')}`);
  if (d.status !== 'added' && d.status !== 'removed') {
    if (d.pools) lines.push(`- node pools with changed boot files: ${d.pools.length}${d.poolsAdded?.length ? `; added: ${mdText(d.poolsAdded.join(', '))}` : ''}${d.poolsRemoved?.length ? `; removed: ${mdText(d.poolsRemoved.join(', '))}` : ''}`);
    else {
      lines.push(`- host files: ${mdText(coverageLine(d.hostCoverage, 'host'))}`);
      lines.push(`- fabric: ${mdText(coverageLine(d.routerCoverage, 'router'))}${d.routersAdded.length ? `; added: ${mdText(namesText(d.routersAdded, 8))}` : ''}${d.routersRemoved.length ? `; removed: ${mdText(namesText(d.routersRemoved, 8))}` : ''}`);
    }
  }
  for (const n of d.notes) lines.push(`- note: ${mdText(n)}`);
  for (const l of lines) b.add(l);
  b.add('');
  if (d.renumber.length) {
    b.add(`**RENUMBER**: ${plural(c.renumbered, 'node')} present on both sides get a new address, pod prefix, rack or gateway${allow ? ' (allowed by --allow-renumber)' : ''}.`);
    b.add('');
    for (const g of groupRenumbers(d.renumber)) {
      for (const cause of g.causes) b.add(`- ${[cause.location ? mdCode(where(cause.location)) : '', cause.path ? `(${mdCode(cause.path)})` : ''].filter(Boolean).join(' ')}: ${mdText(cause.why)}`);
      for (const n of g.nodes) if (!b.add(`  - ${mdCode(n.node)}: ${mdText(changeText(n))}`)) break;
    }
    if (c.renumbered > d.renumber.length) b.add(`- … and ${(c.renumbered - d.renumber.length).toLocaleString('en-US')} more`);
    b.add('');
  }
  const disruptive = d.cluster.filter((x) => x.disruptive);
  if (disruptive.length) {
    b.add(`**DISRUPTIVE**: ${plural(disruptive.length, 'change')} a live cluster cannot take${allow ? ' (allowed by --allow-renumber)' : ''}:`);
    b.add('');
    for (const x of disruptive) {
      const field = x.section === 'flat6:cluster' ? x.path : `${x.section}.${x.path}`;
      b.add(`- ${mdCode(field)}: ${mdCode(x.old ?? '(unset)')} → ${mdCode(x.new ?? '(unset)')}${x.location ? ` at ${mdCode(where(x.location))}` : ''}: ${mdText(x.disruptive!)}`);
    }
    b.add('');
  }
  const plain = d.cluster.filter((x) => !x.disruptive);
  if (plain.length) {
    b.add('| cluster field | base | head | where |');
    b.add('|---|---|---|---|');
    for (const x of plain) {
      const field = x.section === 'flat6:cluster' ? x.path : `${x.section}${x.path ? `.${x.path}` : ''}`;
      if (!b.add(`| ${mdCode(field, true)} | ${mdCode(x.old ?? '(unset)', true)} | ${mdCode(x.new ?? '(unset)', true)} | ${x.location ? mdCode(where(x.location), true) : ''} |`)) break;
    }
    b.add('');
  }
  if (c.added) b.add(nodesLine('Nodes added', d.added, c.added));
  if (c.removed) b.add(nodesLine('Nodes removed', d.removed, c.removed));
  if (c.added || c.removed) b.add('');
}

/** One <details> block per group of targets with the same change, while the budget lasts. */
function details(kind: string, list: readonly TargetDiff[], b: Budget): void {
  for (const g of groupTargets(list)) {
    const who = g.names.length > 1 ? `${g.names.length} ${kind}s with the same change: ${namesText(g.names, 50)}` : `${kind} ${g.target.name}`;
    const head = `<details><summary>${html(who)}: ${html(fileStat(g.target))}</summary>`;
    const lines = g.target.files.flatMap((f) => fileDiffText(f, g.target.name));
    const wrap = (body: string[]): string => `${head}\n\n${mdFence(body.join('\n'), 'diff')}\n\n</details>\n`;
    let block = wrap(lines);
    if (block.length + 1 > b.left && b.left > 1500) {
      // Cut the diff to what fits, and say so.
      let keep = lines.length;
      while (keep > 0 && wrap([...lines.slice(0, keep), '... cut: the rest does not fit in one comment']).length + 1 > b.left) keep = Math.floor(keep * 0.8);
      if (keep > 0) block = wrap([...lines.slice(0, keep), `... ${plural(lines.length - keep, 'more line')} cut: the rest does not fit in one comment`]);
    }
    b.add(block);
  }
}

export function formatMarkdown(report: DiffReport, limit = MARKDOWN_LIMIT): string {
  const b = new Budget(limit);
  b.add(`## flat6 diff against ${mdCode(baseText(report.base))}`);
  b.add('');
  const blocked = report.stacks.filter((d) => d.blocked);
  const failed = report.stacks.filter((d) => d.status === 'error');
  if (failed.length) b.add(`**Failed**: ${failed.map((d) => mdCode(d.stack)).join(', ')}: the stack does not load or pass its checks.`);
  if (blocked.length) b.add(`**Blocked**: ${blocked.map((d) => `${mdCode(d.stack)} (${d.blocks.join(', ')})`).join(', ')}. Merging would renumber live nodes or make a change a live cluster cannot take (or the base could not be checked: UNVERIFIED); if that is intended, run flat6 diff with --allow-renumber (in the pull-request workflow: add the label flat6-allow-renumber).`);
  const allowed = report.stacks.filter((d) => !d.blocked && d.blocks.length);
  if (allowed.length) b.add(`**Allowed by --allow-renumber**: ${allowed.map((d) => `${mdCode(d.stack)} (${d.blocks.join(', ')})`).join(', ')}.`);
  if (!failed.length && !blocked.length) b.add(`No blocking change in ${plural(report.stacks.length, 'stack')}.`);
  b.add('');
  b.add('| stack | status | hosts | added | removed | renumbered | hosts with changed files | routers with changed files |');
  b.add('|---|---|--:|--:|--:|--:|--:|--:|');
  for (const d of report.stacks) {
    const c = d.counts;
    const hostsCell = d.pools ? `${d.pools.length} pool(s)` : `${d.hostCoverage.changed}${d.hostCoverage.sampled ? ` of a sample of ${d.hostCoverage.rendered}` : ''}`;
    b.add(`| ${mdCode(d.stack, true)} | ${d.blocked ? '**' : ''}${mdText(statusText(d))}${d.blocked ? '**' : ''} | ${c.hostsBase.toLocaleString('en-US')} → ${c.hostsHead.toLocaleString('en-US')} | ${c.added.toLocaleString('en-US')} | ${c.removed.toLocaleString('en-US')} | ${c.renumbered.toLocaleString('en-US')} | ${hostsCell} | ${d.routerCoverage.changed} |`);
  }
  b.add('');
  const shown = report.stacks.filter((d) => d.status !== 'unchanged');
  for (const d of shown) essentials(d, report.allowRenumber, b);
  for (const d of shown) {
    if (!d.hosts.length && !d.routers.length && !d.pools?.length) continue;
    b.add(`#### ${mdText(d.stack)}: file changes`);
    b.add('');
    details('host', d.hosts, b);
    details('router', d.routers, b);
    if (d.pools) details('pool', d.pools, b);
  }
  let text = b.text();
  if (b.omitted) {
    text += `\n\n> **Truncated**: ${plural(b.omitted, 'part')} of this report did not fit in one GitHub comment (at most ${GITHUB_COMMENT_LIMIT.toLocaleString('en-US')} characters). Run \`flat6 diff --base <ref> --stack <stack>\` locally for everything.\n`;
  }
  return text.endsWith('\n') ? text : `${text}\n`;
}
