/**
 * flat6 diff's output and its edges: the pull-request markdown parses and
 * stays under GitHub's comment limit (truncated with a note), hostile text
 * cannot add markdown or HTML, the line diff is minimal and its hunks apply,
 * secrets never show (git base and render-directory base), AWS node pools,
 * and the 1,048,576-node scale stack (one rack added, DNS changed).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Lexer, type Token, type Tokens } from 'marked';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatMarkdown, GITHUB_COMMENT_LIMIT, mdCode } from '../src/diff/format-markdown.js';
import { diffLines, unifiedDiff } from '../src/diff/unified.js';
import { maskSecrets } from '../src/diff/files.js';
import { emptyDiff } from '../src/diff/stack.js';
import type { DiffReport, StackDiff } from '../src/diff/types.js';
import { cleanupTempDirs, cli, ROOT, tempDir, TEST_SECRETS, testSecretsFile } from './helpers.js';
import { commit, diff, diffJson, fixtureRepo, fixtureStack, FX, names, paths } from './diff-helpers.js';

afterAll(cleanupTempDirs);

function walk(tokens: Token[], f: (t: Token) => void): void {
  for (const t of tokens) {
    f(t);
    const kids = (t as { tokens?: Token[] }).tokens;
    if (kids) walk(kids, f);
    if (t.type === 'list') for (const item of (t as Tokens.List).items) walk(item.tokens, f);
  }
}

/** Parse GFM; every <details> closed, every HTML token one of the few the format writes. */
function checkMarkdown(md: string): { codes: Tokens.Code[]; html: string[] } {
  const tokens = new Lexer({ gfm: true }).lex(md);
  const codes: Tokens.Code[] = [];
  const html: string[] = [];
  walk(tokens, (t) => {
    if (t.type === 'code') codes.push(t as Tokens.Code);
    if (t.type === 'html') html.push((t as Tokens.HTML).raw.trim());
  });
  for (const h of html) expect(h, 'only <details>, <summary> and </details> HTML').toMatch(/^(<details><summary>[^<]*<\/summary>|<\/details>)$/);
  expect(html.filter((h) => h.startsWith('<details>')).length).toBe(html.filter((h) => h === '</details>').length);
  return { codes, html };
}

describe('markdown for a pull-request comment', () => {
  it('a renumbering of 600 hosts is truncated under the comment limit with a note, and parses', async () => {
    const racks = Array.from({ length: 30 }, (_, i) => `      - { name: r${i}, nodes: 20 }\n`).join('');
    const dir = fixtureRepo({ [FX]: fixtureStack({ racks: racks.replace('r0', 'a') }) });
    commit(dir, { [FX]: fixtureStack({ racks: racks.replace('r0', 'a') }).replace('slotsPerRack: 64', 'slotsPerRack: 64\n      hostOffset: 64') });
    const r = await diff(dir, ['--stack', 'fx', '--base', 'HEAD~1', '--format', 'markdown']);
    expect(r.code).toBe(1);
    expect(r.stdout.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(r.stdout.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT / 2);
    expect(r.stdout).toMatch(/> \*\*Truncated\*\*: [\d,]+ parts? of this report did not fit in one GitHub comment/);
    expect(r.stdout).toContain('**RENUMBER**: 600 nodes');
    const { codes } = checkMarkdown(r.stdout);
    expect(codes.length).toBeGreaterThan(3);
    for (const c of codes) expect(c.lang).toBe('diff');
  });

  it('a small change is complete (no truncation note) and its diff is a fenced diff block', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    commit(dir, { [FX]: fixtureStack({ dns: '["2001:db8:53::54"]' }) });
    const r = await diff(dir, ['--stack', 'fx', '--base', 'HEAD~1', '--format', 'markdown']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('Truncated');
    expect(r.stdout).toContain('No blocking change in 1 stack.');
    const { codes, html } = checkMarkdown(r.stdout);
    expect(html[0]).toBe('<details><summary>4 hosts with the same change: a-n0, a-n1, b-n0, b-n1: etc/netplan/60-flat6.yaml (-1 +1)</summary>');
    expect(codes).toHaveLength(1);
    expect(codes[0].text).toContain('-          - "2001:db8:53::53"\n+          - "2001:db8:53::54"');
  });

  it('hostile text from a template overlay stays inside code: fences, details and HTML cannot be closed or opened', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() }, { templates: true });
    const t = 'templates/sysctl/modules-load.conf.hbs';
    // Lines that would close a ``` fence, a <details> block or open HTML, as unchanged context next to a change.
    const evil = '```\n</details><script>alert(1)</script>\n````` <img src=x onerror=alert(1)> | a | b |\n';
    const text = readFileSync(join(dir, t), 'utf8');
    commit(dir, { [t]: evil + text });
    commit(dir, { [t]: evil + '# a reviewed change\n' + text });
    const r = await diff(dir, ['--stack', 'fx', '--base', 'HEAD~1', '--format', 'markdown', '--templates', 'templates']);
    expect(r.code).toBe(0);
    const { codes } = checkMarkdown(r.stdout);
    expect(codes).toHaveLength(1);
    expect(codes[0].text).toContain(' </details><script>alert(1)</script>\n ````` <img');
    expect(codes[0].text).toContain('+# a reviewed change');
    expect(mdCode('a`b|c', true)).toBe('``a`b\\|c``');
  });

  it('formatMarkdown keeps to any limit it is given', () => {
    const host = (i: number): DiffReport['stacks'][number]['hosts'][number] => ({
      name: `h${i}`,
      files: [{ path: 'etc/x.conf', status: 'changed', removed: 1, added: 1, diff: `@@ -1 +1 @@\n-${'a'.repeat(500)}${i}\n+${'b'.repeat(500)}${i}`, cut: 0 }],
    });
    const report = {
      base: { kind: 'git', ref: 'main', commit: '0'.repeat(40) },
      allowRenumber: false,
      exitCode: 0,
      stacks: [{ ...JSON.parse(JSON.stringify(emptyStack)), status: 'changed', hosts: Array.from({ length: 400 }, (_, i) => host(i)) }],
    } as DiffReport;
    for (const limit of [5000, 20000, 63000]) {
      const md = formatMarkdown(report, limit);
      expect(md.length).toBeLessThanOrEqual(limit + 400);
      expect(md).toContain('Truncated');
      checkMarkdown(md);
    }
  });
});

/** An unchanged stack of one host on each side, from the product's own empty diff. */
const emptyStack: StackDiff = {
  ...emptyDiff('s', 'stacks/Pulumi.s.yaml', { kind: 'git', ref: 'main', commit: '0'.repeat(40) }),
  counts: { hostsBase: 1, hostsHead: 1, added: 0, removed: 0, renumbered: 0 },
};

describe('line diff', () => {
  /** Length of a longest common subsequence (dynamic programming), for the minimal edit count. */
  function lcs(a: string[], b: string[]): number {
    const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) t[i][j] = a[i - 1] === b[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
    return t[a.length][b.length];
  }

  /** Apply unified hunks to the old lines. */
  function apply(old: string[], hunks: string[]): string[] {
    const out: string[] = [];
    let at = 0;
    for (let i = 0; i < hunks.length; ) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$/.exec(hunks[i])!;
      // A hunk that removes nothing names the line before it; otherwise its first line.
      const start = m[2] === '0' ? Number(m[1]) : Number(m[1]) - 1;
      while (at < start) out.push(old[at++]);
      for (i++; i < hunks.length && !hunks[i].startsWith('@@'); i++) {
        const l = hunks[i];
        if (l[0] === ' ') out.push(old[at++]);
        else if (l[0] === '-') at++;
        else out.push(l.slice(1));
      }
    }
    while (at < old.length) out.push(old[at++]);
    return out;
  }

  it('is a minimal edit script that rebuilds both sides, and its hunks apply (property)', () => {
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', ''), { maxLength: 30 });
    fc.assert(
      fc.property(lines, lines, fc.integer({ min: 0, max: 4 }), (a, b, context) => {
        const ot = a.map((l) => `${l}\n`).join('');
        const nt = b.map((l) => `${l}\n`).join('');
        const ops = diffLines(ot, nt);
        expect(ops.filter((o) => o.kind !== '+').map((o) => o.line)).toEqual(a);
        expect(ops.filter((o) => o.kind !== '-').map((o) => o.line)).toEqual(b);
        expect(ops.filter((o) => o.kind !== ' ').length).toBe(a.length + b.length - 2 * lcs(a, b));
        const u = unifiedDiff(ot, nt, context);
        expect(apply(a, u.lines)).toEqual(b);
        expect(u.removed + u.added).toBe(a.length + b.length - 2 * lcs(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it('a large file with one change costs the change, and known hunks read as diff -u writes them', () => {
    const big = Array.from({ length: 200_000 }, (_, i) => `line ${i}`);
    const changed = [...big];
    changed[100_000] = 'changed';
    const u = unifiedDiff(big.join('\n') + '\n', changed.join('\n') + '\n', 3);
    expect(u.lines).toEqual(['@@ -99998,7 +99998,7 @@', ' line 99997', ' line 99998', ' line 99999', '-line 100000', '+changed', ' line 100001', ' line 100002', ' line 100003']);
    expect(unifiedDiff('a\n', '', 3).lines).toEqual(['@@ -1 +0,0 @@', '-a']);
    expect(unifiedDiff('', 'a\n', 3).lines).toEqual(['@@ -0,0 +1 @@', '+a']);
  });
});

describe('secrets never show', () => {
  it('masks tokens, certificate keys and CA hashes in any file', () => {
    expect(maskSecrets(`token: "${TEST_SECRETS.bootstrapToken}"\nkey: ${TEST_SECRETS.certificateKey}\n- ${TEST_SECRETS.caCertHash}`)).toBe('token: "<bootstrap-token>"\nkey: <certificate-key>\n- sha256:<ca-cert-hash>');
  });

  it('against a render directory: other secrets change nothing and appear nowhere, a real change still shows', async () => {
    const out = join(tempDir('dir-base'), 'out');
    const r = await cli(['render', '--stack', 'multirack', '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(0);
    const other = join(tempDir('secrets-b'), 'secrets.yaml');
    const b = { token: 'zyxwvu.9876543210zyxwvu', key: 'f'.repeat(64), hash: `sha256:${'e'.repeat(64)}` };
    writeFileSync(other, `bootstrapToken: "${b.token}"\ncertificateKey: "${b.key}"\ncaCertHashes: ["${b.hash}"]\n`, { mode: 0o600 });
    for (const format of ['text', 'json', 'markdown']) {
      const d = await cli(['diff', '--stack', 'multirack', '--base', out, '--secrets', other, '--format', format]);
      expect(d.code, d.stderr).toBe(0);
      for (const s of [TEST_SECRETS.bootstrapToken, TEST_SECRETS.certificateKey, TEST_SECRETS.caCertHash.slice(7), b.token, b.key, b.hash.slice(7)]) expect(d.stdout).not.toContain(s);
      if (format === 'json') {
        const s = (JSON.parse(d.stdout) as DiffReport).stacks[0];
        expect(s.status).toBe('unchanged');
        expect(s.hostCoverage.rendered).toBe(14);
        expect(s.routerCoverage.rendered).toBeGreaterThan(4);
      }
    }
    // A stack edit against the same directory: netplan files change, secrets still hidden.
    const edited = join(tempDir('edited'), 'Pulumi.multirack.yaml');
    writeFileSync(edited, readFileSync(join(ROOT, 'stacks', 'Pulumi.multirack.yaml'), 'utf8').replace('"2001:db8:53::54"', '"2001:db8:53::55"'));
    const j = await cli(['diff', '--stack', edited, '--base', out, '--secrets', other, '--format', 'json']);
    const s = (JSON.parse(j.stdout) as DiffReport).stacks[0];
    expect(s.hosts).toHaveLength(14);
    for (const h of s.hosts) expect(paths(h)).toEqual(['etc/netplan/60-flat6.yaml']);
    expect(j.stdout).not.toContain(b.token);
  });

  it('a changed encrypted secret of a stack is named, its value never shown', async () => {
    const aws = readFileSync(join(ROOT, 'stacks', 'Pulumi.aws-lab.yaml'), 'utf8');
    const withSecrets = (a: string, b: string): string => aws.replace('config:\n', `config:\n  flat6:bootstrapToken:\n    secure: ${a}\n  flat6:certificateKey:\n    secure: ${b}\n`);
    const dir = fixtureRepo({ 'stacks/Pulumi.aws-lab.yaml': withSecrets('AAABAOLDCIPHERTEXT1', 'AAABAOLDCIPHERTEXT2') });
    commit(dir, { 'stacks/Pulumi.aws-lab.yaml': withSecrets('AAABANEWCIPHERTEXT1', 'AAABANEWCIPHERTEXT2') });
    for (const format of ['text', 'json', 'markdown']) {
      const r = await diff(dir, ['--stack', 'aws-lab', '--base', 'HEAD~1', '--format', format]);
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).not.toMatch(/CIPHERTEXT/);
      expect(r.stdout).toContain('flat6:bootstrapToken');
    }
    const { stack } = await diffJson(dir, ['--stack', 'aws-lab', '--base', 'HEAD~1']);
    expect(stack.cluster.map((c) => [c.section, c.old, c.new])).toEqual([
      ['flat6:bootstrapToken', '(secret)', '(secret)'],
      ['flat6:certificateKey', '(secret)', '(secret)'],
    ]);
    expect(stack.pools).toEqual([]);
  });
});

describe('cloud node pools', () => {
  it('an OCI stack: each pool\'s boot files, no bare-metal hosts', async () => {
    const oci = readFileSync(join(ROOT, 'stacks', 'Pulumi.oci-lab.yaml'), 'utf8');
    const dir = fixtureRepo({ 'stacks/Pulumi.oci-lab.yaml': oci });
    commit(dir, { 'stacks/Pulumi.oci-lab.yaml': oci.replace('kubernetesVersion: v1.33.4', 'kubernetesVersion: v1.33.5') });
    const { code, stack } = await diffJson(dir, ['--stack', 'oci-lab', '--base', 'HEAD~1']);
    expect(code).toBe(0);
    expect(stack.pools!.length).toBeGreaterThanOrEqual(2);
    expect(names(stack.pools!)).toContain('control-plane/cp0');
    for (const p of stack.pools!) expect(p.files.some((f) => f.diff.includes('+  "kubernetesVersion": "v1.33.5"'))).toBe(true);
    expect(stack.hosts).toEqual([]);
    expect(stack.notes.join('\n')).toContain('cloud stack (flat6:oci)');
  });

  it('what each pool boots with is compared; control-plane nodes moved to another zone are RENUMBER', async () => {
    const aws = readFileSync(join(ROOT, 'stacks', 'Pulumi.aws-lab.yaml'), 'utf8');
    const dir = fixtureRepo({ 'stacks/Pulumi.aws-lab.yaml': aws });
    commit(dir, { 'stacks/Pulumi.aws-lab.yaml': aws.replace('kubernetesVersion: v1.33.4', 'kubernetesVersion: v1.33.5') });
    const up = await diffJson(dir, ['--stack', 'aws-lab', '--base', 'HEAD~1']);
    expect(up.code).toBe(0);
    expect(names(up.stack.pools!)).toEqual(['control-plane/cp0', 'control-plane/cp1', 'control-plane/cp2', 'workers-general']);
    for (const p of up.stack.pools!) expect(paths(p)).toContain('etc/flat6/aws-boot.json');
    expect(up.stack.hosts).toEqual([]);

    const zones = aws.match(/availabilityZones: \[(.*)\]/)![1].split(', ');
    commit(dir, { 'stacks/Pulumi.aws-lab.yaml': aws.replace(/availabilityZones: \[.*\]/, `availabilityZones: [${[zones[1], zones[0], zones[2]].join(', ')}]`) });
    const moved = await diffJson(dir, ['--stack', 'aws-lab', '--base', 'HEAD~1']);
    expect(moved.code).toBe(1);
    expect(moved.stack.renumber.map((r) => r.node)).toEqual(['control-plane/cp0', 'control-plane/cp1']);
    expect(moved.stack.renumber[0].causes[0].path).toBe('availabilityZones');
  });
});

describe('the 1,048,576-node scale stack', () => {
  const scale = readFileSync(join(ROOT, 'stacks', 'Pulumi.scale.yaml'), 'utf8');

  it('one rack added: its 64 nodes and its ToR, the spines; no host rendered', async () => {
    const dir = fixtureRepo({ 'stacks/Pulumi.scale.yaml': scale });
    commit(dir, { 'stacks/Pulumi.scale.yaml': scale.replace('count: 16384', 'count: 16385').replaceAll('/43"', '/42"') });
    const { code, stack } = await diffJson(dir, ['--stack', 'scale', '--base', 'HEAD~1']);
    // Growing the ranges (rack, node and pod: one /43 in the rack layout) is a DISRUPTIVE pod range change; counts stay exact.
    expect(stack.counts).toMatchObject({ hostsBase: 1048576, hostsHead: 1048640 });
    expect(code).toBe(1);
    expect(stack.blocks).toContain('DISRUPTIVE');

    const grown = fixtureRepo({ 'stacks/Pulumi.scale.yaml': scale.replace('count: 16384', 'count: 16000') });
    commit(grown, { 'stacks/Pulumi.scale.yaml': scale.replace('count: 16384', 'count: 16001') });
    const g = await diffJson(grown, ['--stack', 'scale', '--base', 'HEAD~1']);
    expect(g.code).toBe(0);
    expect(g.stack.counts).toMatchObject({ added: 64, removed: 0, renumbered: 0 });
    expect(g.stack.added[0].name).toBe('rack16000-n0');
    expect(g.stack.hostCoverage.rendered).toBe(0);
    expect(g.stack.routersAdded).toEqual(['tor-rack16000']);
    expect(names(g.stack.routers).every((n) => n.startsWith('spine'))).toBe(true);
    // The spines are compared over the new rack and its neighbour, not all 16,001 racks; the new rack's session shows.
    expect(g.stack.notes.join('\n')).toContain('the spines of 16,001 racks were compared over a window of 2 racks');
    const bird = g.stack.routers.find((r) => r.name === 'spine')!.files.find((f) => f.path === 'etc/bird/bird.conf')!;
    expect(bird.diff).toMatch(/^\+protocol bgp tor16000 /m);
    expect(bird.removed).toBeLessThanOrEqual(2);
  });

  it('one rack removed: the spines lose exactly its entries', async () => {
    const dir = fixtureRepo({ 'stacks/Pulumi.scale.yaml': scale.replace('count: 16384', 'count: 16001') });
    commit(dir, { 'stacks/Pulumi.scale.yaml': scale.replace('count: 16384', 'count: 16000') });
    const { code, stack } = await diffJson(dir, ['--stack', 'scale', '--base', 'HEAD~1']);
    expect(code).toBe(0);
    expect(stack.counts).toMatchObject({ added: 0, removed: 64, renumbered: 0 });
    expect(stack.routersRemoved).toEqual(['tor-rack16000']);
    const bird = stack.routers.find((r) => r.name === 'spine')!.files.find((f) => f.path === 'etc/bird/bird.conf')!;
    expect(bird.diff).toMatch(/^-protocol bgp tor16000 /m);
    expect(bird.diff).not.toMatch(/^-protocol bgp tor15999 /m);
    expect(bird.added).toBeLessThanOrEqual(2);
  });

  it('a change every host reads (DNS) reports the count and renders a sample', async () => {
    const dir = fixtureRepo({ 'stacks/Pulumi.scale.yaml': scale });
    commit(dir, { 'stacks/Pulumi.scale.yaml': scale.replace('dns: ["2001:db8:53::53"]', 'dns: ["2001:db8:53::54"]') });
    const { code, stack } = await diffJson(dir, ['--stack', 'scale', '--base', 'HEAD~1']);
    expect(code).toBe(0);
    expect(stack.hostCoverage).toMatchObject({ inputsChanged: 1048576, sampled: true });
    expect(stack.hostCoverage.rendered).toBeLessThanOrEqual(16);
    expect(stack.hostCoverage.changed).toBe(stack.hostCoverage.rendered);
    for (const h of stack.hosts) expect(paths(h)).toEqual(['etc/netplan/60-flat6.yaml']);
    expect(stack.routerCoverage.sampled).toBe(true);
  });
});
