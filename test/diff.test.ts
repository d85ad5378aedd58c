/**
 * flat6 diff against git fixture repositories made here (a base commit and a
 * head commit): additions never renumber, an inserted rack without index is
 * RENUMBER naming the moved nodes and the stack line, a DNS change lists every
 * host's netplan, a template change shows exactly the files that template
 * renders (checked against two full renders), secrets never show, and the
 * working tree is never touched.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffCommand } from '../src/cli/commands/diff.js';
import { cleanupTempDirs, cli, readTree, tempDir } from './helpers.js';
import { commit, diff, diffJson, fixtureRepo, fixtureStack, FX, git, names, paths } from './diff-helpers.js';

afterAll(cleanupTempDirs);

const RACKS_AB = '      - { name: a, nodes: 2 }\n      - { name: b, nodes: 2 }\n';

describe('additions never renumber', () => {
  it('a node appended to a rack: added, no RENUMBER, only that rack\'s ToR changes, exit 0', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    commit(dir, { [FX]: fixtureStack({ racks: '      - { name: a, nodes: 2 }\n      - { name: b, nodes: 3 }\n' }) });
    const { code, stack } = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(code).toBe(0);
    expect(stack.blocked).toBe(false);
    expect(stack.counts).toMatchObject({ hostsBase: 4, hostsHead: 5, added: 1, removed: 0, renumbered: 0 });
    expect(stack.added.map((n) => n.name)).toEqual(['b-n2']);
    expect(stack.added[0]).toMatchObject({ rack: 'b', address: '2001:db8:100:1::12', podPrefix: '2001:db8:4200:42::/64' });
    expect(stack.renumber).toEqual([]);
    // No existing host's inputs changed; the spines' (racks unchanged) neither.
    expect(stack.hosts).toEqual([]);
    expect(stack.hostCoverage.rendered).toBe(0);
    expect(names(stack.routers)).toEqual(['tor-b']);
  });

  it('a rack appended at the end: its nodes and ToR added, the spines gain it, no RENUMBER, exit 0', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    commit(dir, { [FX]: fixtureStack({ racks: `${RACKS_AB}      - { name: c, nodes: 2 }\n` }) });
    const { code, stack } = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(code).toBe(0);
    expect(stack.counts).toMatchObject({ added: 2, removed: 0, renumbered: 0 });
    expect(stack.added.map((n) => n.name)).toEqual(['c-n0', 'c-n1']);
    expect(stack.racks.added).toEqual(['c']);
    expect(stack.routersAdded).toEqual(['tor-c']);
    expect(stack.hosts).toEqual([]);
    // Every spine learns the new rack; no other ToR changes.
    expect(names(stack.routers).every((n) => n.startsWith('spine'))).toBe(true);
    expect(stack.routers.length).toBeGreaterThan(0);
    const spine = stack.routers.find((r) => r.name === 'spine')!;
    expect(spine.files.every((f) => f.removed === 0 || f.path.includes('bird'))).toBe(true);
  });
});

describe('renumbering guard', () => {
  const inserted = `      - { name: a, nodes: 2 }\n      - { name: x, nodes: 1 }\n      - { name: b, nodes: 2 }\n`;

  it('a rack inserted without index before others is RENUMBER: every moved node named with old and new values and the stack line; exit 1', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    commit(dir, { [FX]: fixtureStack({ racks: inserted }) });
    const { code, stack } = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(code).toBe(1);
    expect(stack.blocked).toBe(true);
    expect(stack.blocks).toContain('RENUMBER');
    expect(stack.counts.renumbered).toBe(2);
    expect(stack.renumber.map((r) => r.node).sort()).toEqual(['b-n0', 'b-n1']);
    const b0 = stack.renumber.find((r) => r.node === 'b-n0')!;
    expect(b0.changes).toEqual([
      { field: 'address', old: '2001:db8:100:1::10', new: '2001:db8:100:2::10' },
      { field: 'podPrefix', old: '2001:db8:4200:40::/64', new: '2001:db8:4200:80::/64' },
      { field: 'gateway', old: '2001:db8:100:1::1', new: '2001:db8:100:2::1' },
    ]);
    // The cause: rack b's entry (line of "- { name: b ...}"), which has no index.
    const lines = readFileSync(join(dir, FX), 'utf8').split('\n');
    const bLine = lines.findIndex((l) => l.includes('name: b')) + 1;
    expect(b0.causes).toHaveLength(1);
    expect(b0.causes[0]).toMatchObject({ path: 'racks.2', location: { file: FX, line: bLine } });
    expect(b0.causes[0].why).toContain('rack b has no index');
    expect(b0.causes[0].why).toContain('rack x was inserted before it');
    expect(b0.causes[0].why).toContain('set index: 1');
    // The moved nodes' files are shown; the new rack's node is an addition.
    expect(names(stack.hosts)).toEqual(['b-n0', 'b-n1']);
    expect(stack.added.map((n) => n.name)).toEqual(['x-n0']);

    const text = await diff(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('BLOCKED (RENUMBER)');
    expect(text.stdout).toContain(`${FX}:${bLine}:`);
    for (const n of ['b-n0', 'b-n1']) expect(text.stdout).toMatch(new RegExp(`^    ${n}: address 2001:db8:100:1::1\\d -> 2001:db8:100:2::1\\d`, 'm'));
  });

  it('--allow-renumber reports the same and exits 0', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    commit(dir, { [FX]: fixtureStack({ racks: inserted }) });
    const { code, stack } = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1', '--allow-renumber']);
    expect(code).toBe(0);
    expect(stack.blocked).toBe(false);
    expect(stack.blocks).toEqual(['RENUMBER']);
    expect(stack.counts.renumbered).toBe(2);
    const text = await diff(dir, ['--stack', 'fx', '--base', 'HEAD~1', '--allow-renumber']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('== fx (stacks/Pulumi.fx.yaml): allowed: RENUMBER');
    expect(text.stdout).toContain('allowed by --allow-renumber: fx (RENUMBER)');
  });

  it('an explicit index change names the index line; a node moved to another rack is RENUMBER too', async () => {
    const base = '      - { name: a, index: 0, nodes: 2 }\n      - name: b\n        index: 1\n        nodes:\n          - { name: n1, slot: 0 }\n          - { name: n2, slot: 1 }\n';
    const head = '      - { name: a, index: 0, nodes: 2 }\n      - name: b\n        index: 5\n        nodes:\n          - { name: n1, slot: 0 }\n      - name: c\n        index: 2\n        nodes:\n          - { name: n2, slot: 3 }\n';
    const dir = fixtureRepo({ [FX]: fixtureStack({ racks: base }) });
    commit(dir, { [FX]: fixtureStack({ racks: head }) });
    const { code, stack } = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(code).toBe(1);
    const n1 = stack.renumber.find((r) => r.node === 'n1')!;
    expect(n1.causes[0]).toMatchObject({ path: 'racks.1.index' });
    expect(n1.causes[0].why).toBe('index of rack b changed from 1 to 5');
    const n2 = stack.renumber.find((r) => r.node === 'n2')!;
    expect(n2.changes.map((c) => c.field)).toEqual(['address', 'podPrefix', 'rack', 'gateway']);
    expect(n2.causes[0].why).toBe('node n2 moved from rack b to rack c');
    expect(n2.causes[0].path).toBe('racks.2.nodes.0');
    expect(stack.counts.renumbered).toBe(2);
  });

  it('switching a stack to the rack layout (network.racks) is RENUMBER for every node, network.racks named as the cause; exit 1', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    const head = fixtureStack().replace(
      '      nodes: "2001:db8:100::/56"\n      pods: "2001:db8:4200::/48"\n',
      '      racks: "2001:db8:100::/56"\n      nodes: "2001:db8:100::/56"\n      pods: "2001:db8:100::/56"\n',
    );
    expect(head).toContain('racks: "2001:db8:100::/56"');
    commit(dir, { [FX]: head });
    const { code, stack } = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(code).toBe(1);
    expect(stack.blocked).toBe(true);
    expect(stack.blocks).toContain('RENUMBER');
    expect(stack.counts.renumbered).toBe(4);
    expect(stack.renumber.map((r) => r.node).sort()).toEqual(['a-n0', 'a-n1', 'b-n0', 'b-n1']);
    // rack a's node subnet stays the first /64 of its block; its pod prefixes move into the block
    const a0 = stack.renumber.find((r) => r.node === 'a-n0')!;
    expect(a0.changes).toEqual([{ field: 'podPrefix', old: '2001:db8:4200::/64', new: '2001:db8:100:40::/64' }]);
    const b0 = stack.renumber.find((r) => r.node === 'b-n0')!;
    expect(b0.changes.map((c) => c.field)).toEqual(['address', 'podPrefix', 'gateway']);
    expect(b0.changes[0]).toEqual({ field: 'address', old: '2001:db8:100:1::10', new: '2001:db8:100:80::10' });
    expect(b0.causes.map((c) => c.path)).toContain('network.racks');
    const text = await diff(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    // network.pods changes too (it must contain the rack range): DISRUPTIVE besides RENUMBER
    expect(text.stdout).toContain('BLOCKED (DISRUPTIVE, RENUMBER)');
    expect(text.stdout).toContain('RENUMBER: 4 nodes present on both sides');
    expect(text.stdout).toContain('(network.racks): network.racks changed from (default) to 2001:db8:100::/56');
  });

  it('a layout field that moves every node is named as the cause; DISRUPTIVE for the service range, VIP and control-plane membership', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    const head = fixtureStack()
      .replace('slotsPerRack: 64', 'slotsPerRack: 64\n      hostOffset: 32')
      .replace('"2001:db8:43::/112"', '"2001:db8:44::/112"')
      .replace('count: 1', 'count: 2')
      .replace('vip: "2001:db8:100::100"', 'vip: "2001:db8:100::200"');
    commit(dir, { [FX]: head });
    const { code, stack } = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(code).toBe(1);
    expect(stack.blocks.sort()).toEqual(['DISRUPTIVE', 'RENUMBER']);
    expect(stack.counts.renumbered).toBe(4);
    expect(stack.renumber[0].causes.map((c) => c.path)).toEqual(['layout.hostOffset']);
    const disruptive = stack.cluster.filter((c) => c.disruptive).map((c) => c.path).sort();
    expect(disruptive).toEqual(['controlPlane (members)', 'controlPlane.vip', 'network.services']);
    const members = stack.cluster.find((c) => c.path === 'controlPlane (members)')!;
    expect(members).toMatchObject({ old: 'a-n0', new: 'a-n0, a-n1' });
  });

  it('a base that no longer passes the checks is UNVERIFIED (blocks unless allowed); a head that does not is an error with its located diagnostics', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack().replace('"2001:db8:43::/112"', '"2001:db8:43::/100"') });
    commit(dir, { [FX]: fixtureStack() });
    const unverified = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(unverified.code).toBe(1);
    expect(unverified.stack.blocks).toEqual(['UNVERIFIED']);
    expect(unverified.stack.notes.join('\n')).toContain('SERVICE_MASK');
    expect((await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1', '--allow-renumber'])).code).toBe(0);

    commit(dir, { [FX]: fixtureStack().replace('name: fx', 'name: [fx') });
    const broken = await diff(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(broken.code).toBe(2);
    expect(broken.stdout).toMatch(/stacks\/Pulumi\.fx\.yaml:\d+:\d+: error (YAML_SYNTAX|SCHEMA_TYPE)/);
  });
});

describe('what changed in files', () => {
  it('changing the DNS servers lists every host\'s netplan change, and nothing else', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    commit(dir, { [FX]: fixtureStack({ dns: '["2001:db8:53::53", "2001:db8:53::54"]' }) });
    const { code, stack } = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(code).toBe(0);
    expect(stack.cluster.map((c) => [c.path, c.old, c.new])).toEqual([['network.dns', '[2001:db8:53::53]', '[2001:db8:53::53, 2001:db8:53::54]']]);
    expect(names(stack.hosts)).toEqual(['a-n0', 'a-n1', 'b-n0', 'b-n1']);
    for (const h of stack.hosts) {
      expect(paths(h), h.name).toEqual(['etc/netplan/60-flat6.yaml']);
      expect(h.files[0].diff).toContain('+          - "2001:db8:53::54"');
    }
    expect(stack.hostCoverage).toMatchObject({ inputsChanged: 4, rendered: 4, changed: 4, sampled: false });
    // The text form names every host under the one change they share.
    const text = await diff(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(text.stdout).toContain('4 hosts with the same change: a-n0, a-n1, b-n0, b-n1: etc/netplan/60-flat6.yaml (-0 +1)');
  });

  async function templateCase(template: string, edit: (text: string) => string): Promise<{ stack: Awaited<ReturnType<typeof diffJson>>['stack']; expected: Map<string, string[]> }> {
    const dir = fixtureRepo({ [FX]: fixtureStack() }, { templates: true });
    const before = join(tempDir('render-before'), 'out');
    const after = join(tempDir('render-after'), 'out');
    const secrets = join(tempDir('secrets'), 'secrets.yaml');
    writeFileSync(secrets, 'bootstrapToken: "abcdef.0123456789abcdef"\ncertificateKey: "' + 'ab'.repeat(32) + '"\n', { mode: 0o600 });
    const render = async (out: string, templates: string): Promise<void> => {
      const r = await cli(['render', '--stack', 'fx', '--templates', templates, '--out', out, '--secrets', secrets], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    };
    // Templates are compiled once per process and path: the base render reads a copy elsewhere.
    const copy = join(tempDir('templates-before'), 'templates');
    cpSync(join(dir, 'templates'), copy, { recursive: true });
    await render(before, copy);
    const file = join(dir, 'templates', template);
    commit(dir, { [`templates/${template}`]: edit(readFileSync(file, 'utf8')) });
    await render(after, 'templates');
    // What the template change really changes: two full renders compared file by file.
    const a = readTree(before);
    const b = readTree(after);
    const expected = new Map<string, string[]>();
    for (const [p, f] of b) {
      if (a.get(p)?.content.equals(f.content)) continue;
      const m = /^(hosts|fabric)\/([^/]+)\/(.+)$/.exec(p)!;
      expected.set(m[2], [...(expected.get(m[2]) ?? []), m[3]].sort());
    }
    const { code, stack } = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1', '--templates', 'templates']);
    expect(code).toBe(0);
    expect(stack.templates).toEqual([template]);
    return { stack, expected };
  }

  it.each([
    ['sysctl/99-flat6.conf.hbs', 'every host'],
    ['keepalived/keepalived.conf.hbs', 'control-plane hosts only'],
    ['routing/tor-bird.conf.hbs', 'top-of-rack routers only'],
  ])('changing template %s shows exactly the files it renders (%s)', async (template) => {
    const { stack, expected } = await templateCase(template, (t) => t.replace(/\n/, '\n# a reviewed change\n'));
    const got = new Map<string, string[]>([...stack.hosts, ...stack.routers].map((t) => [t.name, paths(t)]));
    expect(expected.size).toBeGreaterThan(0);
    expect(got).toEqual(expected);
  });

  it('the working tree, the index and HEAD are untouched', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() }, { templates: true });
    commit(dir, { [FX]: fixtureStack({ dns: '["2001:db8:53::54"]' }), 'templates/sysctl/99-flat6.conf.hbs': '# changed\n' });
    writeFileSync(join(dir, 'untracked.txt'), 'x');
    writeFileSync(join(dir, FX), fixtureStack({ dns: '["2001:db8:53::55"]' })); // an uncommitted edit: the head is the working tree
    const state = (): string[] => [git(dir, 'status', '--porcelain'), git(dir, 'rev-parse', 'HEAD'), git(dir, 'stash', 'list'), git(dir, 'worktree', 'list')];
    const before = state();
    const r = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1', '--templates', 'templates']);
    expect(r.stack.cluster.find((c) => c.path === 'network.dns')).toMatchObject({ old: '[2001:db8:53::53]', new: '[2001:db8:53::55]' });
    expect(state()).toEqual(before);
  });
});

describe('--all-stacks and bad input', () => {
  it('--help documents every option and the exit statuses', async () => {
    const r = await cli(['diff', '--help']);
    expect(r.code).toBe(0);
    for (const [opt, def] of Object.entries(diffCommand.options)) {
      expect(r.stdout, `--${opt}`).toContain(`--${opt}`);
      if (def.short) expect(r.stdout, `-${def.short}`).toContain(`-${def.short}, --${opt}`);
    }
    expect(r.stdout).toContain('Exit status: 0 nothing blocks, 1 a RENUMBER, DISRUPTIVE or UNVERIFIED finding');
  });

  it('--all-stacks covers stacks added, removed and unchanged; the exit status is the worst', async () => {
    const other = fixtureStack({ name: 'other' });
    const dir = fixtureRepo({ [FX]: fixtureStack(), 'stacks/Pulumi.old.yaml': other, 'stacks/Pulumi.same.yaml': other });
    commit(dir, { 'stacks/Pulumi.old.yaml': null, 'stacks/Pulumi.new.yaml': other, [FX]: fixtureStack({ racks: `      - { name: a, nodes: 2 }\n      - { name: x, nodes: 1 }\n      - { name: b, nodes: 2 }\n` }) });
    const { code, report } = await diffJson(dir, ['--all-stacks', '--base', 'HEAD~1']);
    expect(code).toBe(1);
    expect(report.stacks.map((s) => [s.stack, s.status, s.blocked])).toEqual([
      ['fx', 'changed', true],
      ['new', 'added', false],
      ['old', 'removed', false],
      ['same', 'unchanged', false],
    ]);
    expect(report.stacks[1].counts.added).toBe(4);
    expect(report.stacks[2].counts.removed).toBe(4);
  });

  it('a bad --base names the ref and why; a directory that is no render is refused; --stack with --all-stacks is a usage error', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    const bad = await diff(dir, ['--stack', 'fx', '--base', 'no-such-branch']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--base no-such-branch: no commit of that name in \S+/);
    const option = await diff(dir, ['--stack', 'fx', '--base=--upload-pack=touch /tmp/x']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('not a git ref');
    const notRepo = tempDir('not-a-repo');
    writeFileSync(join(notRepo, 'Pulumi.fx.yaml'), fixtureStack());
    const nr = await diff(notRepo, ['--stack', 'Pulumi.fx.yaml', '--base', 'HEAD~1']);
    expect(nr.code).toBe(2);
    expect(nr.stderr).toContain('is not inside a git repository');
    const plain = await diff(dir, ['--stack', 'fx', '--base', 'stacks']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('not the output of flat6 render');
    expect((await diff(dir, ['--stack', 'fx', '--all-stacks', '--base', 'HEAD'])).code).toBe(2);
    expect((await diff(dir, ['--stack', 'fx'])).stderr).toContain('--base REF|DIR is required');
    expect((await diff(dir, ['--stack', 'fx', '--base', 'HEAD', '--format', 'yaml'])).code).toBe(2);
    expect((await diff(dir, ['--stack', 'fx', '--base', 'HEAD', '--context', '-1'])).code).toBe(2);
  });

  it('hostile input never crashes: broken base stacks are UNVERIFIED, broken render directories a usage error', async () => {
    const hostile = ['', 'a: [', 'config:\n  flat6:cluster: !!binary aGk=\n', `config:\n  flat6:cluster:\n    a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 120 }, (_, i) => `    b${i}: [*a, *a, *a, *a, *a, *a, *a, *a]`).join('\n')}\n`, 'config: 5\n', '\u0000\u001b[2J'];
    for (const text of hostile) {
      const dir = fixtureRepo({ [FX]: text });
      commit(dir, { [FX]: fixtureStack() });
      const r = await diffJson(dir, ['--stack', 'fx', '--base', 'HEAD~1']);
      expect(r.code, JSON.stringify(text)).toBe(1);
      expect(r.stack.blocks).toEqual(['UNVERIFIED']);
    }
    const plans = ['{', '[]', '{"nodes": 5}', '{"nodes": [null]}', '{"nodes": [{"name": "../x", "rack": "a", "address": "x", "podPrefix": "y", "gateway": "z"}]}'];
    for (const plan of plans) {
      const out = tempDir('bad-render');
      writeFileSync(join(out, 'plan.json'), plan);
      const r = await cli(['diff', '--stack', 'multirack', '--base', out]);
      expect(r.code, plan).toBe(2);
      expect(r.stderr).toMatch(/^flat6 diff: --base \S+/);
    }
    // A render whose plan.json is sound but whose values are not: compared, reported, no crash.
    const odd = tempDir('odd-render');
    writeFileSync(join(odd, 'plan.json'), JSON.stringify({ cluster: 'x'.repeat(5000), controlPlanes: 'nope', nodes: [{ name: 'r0-n0', rack: 'r0', address: 'not an address', podPrefix: '::/0', gateway: '' }] }));
    const r = await cli(['diff', '--stack', 'multirack', '--base', odd, '--format', 'json']);
    expect(r.code).toBe(1);
    const s = (JSON.parse(r.stdout) as { stacks: Array<{ blocks: string[]; counts: { renumbered: number } }> }).stacks[0];
    expect(s.blocks.sort()).toEqual(['DISRUPTIVE', 'RENUMBER']);
    expect(s.counts.renumbered).toBe(1);
  });

  it('a shallow clone without the base commit says how to fetch it', async () => {
    const dir = fixtureRepo({ [FX]: fixtureStack() });
    commit(dir, { [FX]: fixtureStack({ dns: '["2001:db8:53::54"]' }) });
    const clone = join(tempDir('shallow'), 'c');
    git(dir, 'clone', '-q', '--depth', '1', `file://${dir}`, clone);
    const r = await diff(clone, ['--stack', 'fx', '--base', 'HEAD~1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('this clone is shallow');
    expect(r.stderr).toContain('fetch-depth: 0');
  });
});
