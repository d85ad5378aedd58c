/**
 * The flat6 command line, driven in-process (src/cli/index.ts `run` with
 * captured streams): help everywhere, exit statuses for usage errors, plan
 * --json, schema, render --host on the 1,048,576-node stack, and where the
 * bootstrap secrets come from.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { planCommand } from '../src/cli/commands/plan.js';
import { renderCommand } from '../src/cli/commands/render.js';
import { schemaCommand } from '../src/cli/commands/schema.js';
import { validateCommand } from '../src/cli/commands/validate.js';
import { stackSchema } from '../src/spec/schema.js';
import { atomicLeftovers, cleanupTempDirs, cli, hashTree, hostsOf, readTree, renderStack, ROOT, SCALE_LAST, stackText, tempDir, TEST_SECRETS, testSecretsFile } from './helpers.js';

afterAll(cleanupTempDirs);

/** Command names listed by the top-level help (other capabilities add theirs). */
async function listedCommands(): Promise<string[]> {
  const r = await cli(['--help']);
  const section = r.stdout.split('Commands:\n')[1].split('\n\n')[0];
  return section
    .split('\n')
    .map((l) => /^\s+(\S+)\s{2,}\S/.exec(l)?.[1])
    .filter((x): x is string => !!x);
}

describe('help', () => {
  it('top level: --help, -h, help and no arguments print usage and the commands, exit 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], []]) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: flat6 <command> [options]');
      for (const c of ['plan', 'validate', 'render', 'schema']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\s+\\S`, 'm'));
      expect(r.stdout).toContain('Exit status: 0 ok, 1 checks failed, 2 usage or parse error');
      expect(r.stderr).toBe('');
    }
  });

  it('every listed command answers --help and -h with its usage', async () => {
    const names = await listedCommands();
    expect(names).toEqual(expect.arrayContaining(['plan', 'validate', 'render', 'schema']));
    for (const name of names) {
      for (const flag of ['--help', '-h']) {
        const r = await cli([name, flag]);
        expect(r.code, `${name} ${flag}`).toBe(0);
        expect(r.stdout.startsWith(`Usage: flat6 ${name}`), `${name} ${flag}`).toBe(true);
        expect(r.stderr).toBe('');
      }
      const h = await cli(['help', name]);
      expect(h.stdout).toBe((await cli([name, '--help'])).stdout);
    }
  });

  it.each([planCommand, validateCommand, renderCommand, schemaCommand].map((c) => [c.name, c] as const))('%s --help documents every option', async (name, command) => {
    const r = await cli([name, '--help']);
    for (const [opt, def] of Object.entries(command.options)) {
      expect(r.stdout, `--${opt}`).toContain(`--${opt}`);
      if (def.short) expect(r.stdout, `-${def.short}`).toContain(`-${def.short},`);
    }
  });

  it('render --help explains output, modes and where secrets come from', async () => {
    const r = await cli(['render', '--help']);
    for (const s of ['hosts/<host>/etc/netplan/60-flat6.yaml', '0600', 'FLAT6_BOOTSTRAP_TOKEN', 'FLAT6_CERTIFICATE_KEY', '--secrets FILE', 'nothing is written']) expect(r.stdout).toContain(s);
  });
});

describe('usage errors exit 2', () => {
  it('an unknown command', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stdout).toBe('');
  });

  it('an unknown flag, for every command', async () => {
    for (const name of await listedCommands()) {
      const r = await cli([name, '--no-such-flag']);
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toMatch(/Unknown option '--no-such-flag'/);
      expect(r.stderr, name).toContain(`Usage: flat6 ${name}`);
    }
  });

  it('a stray positional argument and a flag without its value', async () => {
    expect((await cli(['validate', 'metal'])).code).toBe(2);
    expect((await cli(['render', '--out'])).code).toBe(2);
  });

  it('plan --host of an unknown node', async () => {
    const r = await cli(['plan', '--stack', 'scale', '--host', 'rack16384-n0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no node "rack16384-n0"');
  });
});

describe('stacks', () => {
  it('the default stack is metal, $FLAT6_STACK overrides it, --stack overrides both', async () => {
    expect((await cli(['validate'])).stdout).toMatch(/^metal: ok \(1 rack\(s\), 6 node\(s\)/);
    expect((await cli(['validate'], { env: { FLAT6_STACK: 'multirack' } })).stdout).toMatch(/^multirack: ok \(4 rack\(s\), 14 node\(s\)/);
    expect((await cli(['validate', '--stack', 'scale'], { env: { FLAT6_STACK: 'multirack' } })).stdout).toMatch(/^scale: ok \(16384 rack\(s\), 1048576 node\(s\)/);
  });

  it('a stack given by path', async () => {
    const r = await cli(['validate', '-s', 'test/fixtures/Pulumi.good.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^good: ok/);
  });
});

describe('plan', () => {
  it('prints ranges, the endpoint and routes per tier', async () => {
    const r = await cli(['plan', '--stack', 'multirack']);
    expect(r.code).toBe(0);
    for (const s of ['pod range      2001:db8:4200::/48', 'API endpoint   [2001:db8:100::100]:6443', 'routing state per tier', 'ToR', 'spine', 'gpu2']) expect(r.stdout).toContain(s);
  });

  it('--json parses and lists every rack and node', async () => {
    const r = await cli(['plan', '--stack', 'multirack', '--json']);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.scope).toBe('cluster');
    expect(p.racks.map((x: { name: string }) => x.name)).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(p.nodes).toHaveLength(14);
    expect(p.nodes.find((n: { name: string }) => n.name === 'gpu1')).toMatchObject({ address: '2001:db8:100:3::10', podPrefix: '2001:db8:4200:c0::/64', mac: '02:00:5e:10:00:01' });
    expect(p.dnsServiceIP).toBe('2001:db8:43::a');
  });

  it('--json --host on the scale stack shows that node only', async () => {
    const r = await cli(['plan', '--stack', 'scale', '--json', '--host', SCALE_LAST]);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.scope).toEqual({ host: SCALE_LAST });
    expect(p.nodeCount).toBe(1_048_576);
    expect(p.nodes).toEqual([expect.objectContaining({ name: SCALE_LAST, address: '2001:db8:401f:ff80::4f', podPrefix: '2001:db8:401f:ffff::/64', rackBlock: '2001:db8:401f:ff80::/57' })]);
    expect(p.racks).toHaveLength(1);
  });
});

describe('schema', () => {
  it('prints valid JSON Schema with every stack field', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toEqual(JSON.parse(JSON.stringify(stackSchema())));
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['name', 'kubernetesVersion', 'network', 'layout', 'controlPlane', 'defaults', 'racks']));
    expect(Object.keys(s.properties.network.properties)).toEqual(expect.arrayContaining(['nodes', 'pods', 'services', 'podPrefixLength', 'rackSubnetLength', 'dns', 'mtu', 'dnsDomain']));
    expect(Object.keys(s.properties.controlPlane.properties)).toEqual(expect.arrayContaining(['count', 'rack', 'vip', 'port', 'apiServerPort']));
    expect(s.required).toEqual(expect.arrayContaining(['name', 'network', 'controlPlane', 'racks']));
    // Every property carries a description an editor can show.
    const undocumented: string[] = [];
    const walk = (node: Record<string, any>, path: string): void => {
      for (const [k, v] of Object.entries<Record<string, any>>(node['properties'] ?? {})) {
        if (!v['description']) undocumented.push(`${path}${k}`);
        walk(v, `${path}${k}.`);
        for (const b of v['oneOf'] ?? []) if (b.items) walk(b.items, `${path}${k}[].`);
        if (v['items']) walk(v['items'], `${path}${k}[].`);
      }
    };
    walk(s, '');
    expect(undocumented).toEqual([]);
  });
});

describe('render --host on the 1,048,576-node stack', () => {
  it('writes only that host and a plan.json scoped to it', async () => {
    const out = join(tempDir('host'), 'out');
    const r = await cli(['render', '--stack', 'scale', '--host', SCALE_LAST, '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`rendered host ${SCALE_LAST} of scale`);
    const tree = readTree(out);
    expect(hostsOf(tree)).toEqual([SCALE_LAST]);
    // Besides the host: plan.json, and at most the router of the host's own rack (fabric/<...rack16383>/).
    for (const p of tree.keys()) expect(p === 'plan.json' || p.startsWith(`hosts/${SCALE_LAST}/`) || /^fabric\/[^/]*rack16383\//.test(p), p).toBe(true);
    const plan = JSON.parse(tree.get('plan.json')!.content.toString());
    expect(plan.scope).toEqual({ host: SCALE_LAST });
    expect(plan.nodes.map((n: { name: string }) => n.name)).toEqual([SCALE_LAST]);
  });

  it('refuses a whole-cluster render of it unless --all-hosts asks for one, and writes nothing', async () => {
    const out = join(tempDir('all'), 'out');
    const r = await cli(['render', '--stack', 'scale', '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('1048576 nodes');
    expect(r.stderr).toContain('--host NAME');
    expect(r.stderr).toContain('--all-hosts');
    expect(existsSync(out)).toBe(false);
  });
});

describe('render --templates overlay', () => {
  const overlay = (body: string): string => {
    const dir = tempDir('overlay');
    mkdirSync(join(dir, 'netplan'));
    writeFileSync(join(dir, 'netplan', '60-flat6.yaml.hbs'), body);
    return dir;
  };

  it('a file in the overlay replaces the built-in template of the same path, the others stay', async () => {
    const out = join(tempDir('overlay-out'), 'out');
    const r = await cli(['render', '--stack', 'metal', '--out', out, '--secrets', testSecretsFile(), '--templates', overlay('# site template for {{host}}\nnetwork: {version: 2}\n')]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'hosts', 'cp2', 'etc', 'netplan', '60-flat6.yaml'), 'utf8')).toBe('# site template for cp2\nnetwork: {version: 2}\n');
    expect(readFileSync(join(out, 'hosts', 'cp2', 'etc', 'sysctl.d', '99-flat6.conf'), 'utf8')).toContain('net.ipv6.conf.all.forwarding = 1');
  });

  it('a broken overlay template or a missing overlay directory exits 2 and leaves the output as it was', async () => {
    const out = await renderStack('metal');
    const before = hashTree(out);
    for (const dir of [overlay('x: {{nosuch}}\n'), overlay('x: {{#if}}\n'), join(tempDir('overlay'), 'absent')]) {
      const r = await cli(['render', '--stack', 'metal', '--out', out, '--secrets', testSecretsFile(), '--templates', dir]);
      expect(r.code, dir).toBe(2);
      expect(r.stderr).toMatch(/template|overlay/);
      expect(hashTree(out)).toBe(before);
      expect(atomicLeftovers(dirname(out), 'out')).toEqual([]);
    }
  });
});

describe('secrets', () => {
  const kubeadmOf = (out: string, host = 'worker1'): string => readFileSync(join(out, 'hosts', host, 'etc', 'flat6', 'kubeadm.yaml'), 'utf8');
  const tokenIn = (text: string): string => /token: "([a-z0-9]{6}\.[a-z0-9]{16})"/.exec(text)![1];

  it('generated once into DIR/secrets.yaml (0600), then reused on every re-render', async () => {
    const out = join(tempDir('secrets'), 'out');
    const a = await cli(['render', '--stack', 'metal', '--out', out]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('generated a bootstrap token and certificate key');
    const secretsFile = join(out, 'secrets.yaml');
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    const secrets = readFileSync(secretsFile, 'utf8');
    const token = /bootstrapToken: "(.+)"/.exec(secrets)![1];
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(tokenIn(kubeadmOf(out))).toBe(token);
    const before = hashTree(out);

    const b = await cli(['render', '--stack', 'metal', '--out', out]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).not.toContain('generated');
    expect(readFileSync(secretsFile, 'utf8')).toBe(secrets);
    expect(hashTree(out)).toBe(before);
  });

  it('two fresh renders generate different secrets', async () => {
    const x = join(tempDir('secrets'), 'out');
    const y = join(tempDir('secrets'), 'out');
    expect((await cli(['render', '--stack', 'metal', '--out', x])).code).toBe(0);
    expect((await cli(['render', '--stack', 'metal', '--out', y])).code).toBe(0);
    expect(tokenIn(kubeadmOf(x))).not.toBe(tokenIn(kubeadmOf(y)));
  });

  it('environment variables win over an earlier secrets.yaml', async () => {
    const out = join(tempDir('secrets'), 'out');
    expect((await cli(['render', '--stack', 'metal', '--out', out])).code).toBe(0);
    const generated = readFileSync(join(out, 'secrets.yaml'), 'utf8');
    const env = { FLAT6_BOOTSTRAP_TOKEN: 'envtok.0123456789envtok', FLAT6_CERTIFICATE_KEY: 'e'.repeat(64), FLAT6_CA_CERT_HASHES: `sha256:${'b'.repeat(64)}` };
    const r = await cli(['render', '--stack', 'metal', '--out', out], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(tokenIn(kubeadmOf(out))).toBe(env.FLAT6_BOOTSTRAP_TOKEN);
    expect(kubeadmOf(out, 'cp2')).toContain(env.FLAT6_CERTIFICATE_KEY);
    expect(kubeadmOf(out)).toContain(env.FLAT6_CA_CERT_HASHES);
    // the earlier generated secrets.yaml is kept, unchanged and owner-only, and serves the next plain render
    expect(readFileSync(join(out, 'secrets.yaml'), 'utf8')).toBe(generated);
    expect(statSync(join(out, 'secrets.yaml')).mode & 0o777).toBe(0o600);
    expect(r.stdout).toContain('kept the existing');
    const again = await cli(['render', '--stack', 'metal', '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('generated');
    expect(tokenIn(kubeadmOf(out))).toBe(/bootstrapToken: "(.+)"/.exec(generated)![1]);
  });

  it('--secrets DIR/secrets.yaml keeps that file in the new tree', async () => {
    const out = join(tempDir('secrets'), 'out');
    expect((await cli(['render', '--stack', 'metal', '--out', out])).code).toBe(0);
    const file = join(out, 'secrets.yaml');
    const before = readFileSync(file, 'utf8');
    const r = await cli(['render', '--stack', 'metal', '--out', out, '--secrets', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await cli(['render', '--stack', 'metal', '--out', out]);
    expect(again.stdout).not.toContain('generated');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('FLAT6_CA_CERT_HASHES on its own pins the CA of generated or file secrets; the pin is not written to secrets.yaml; a bad one exits 2', async () => {
    const pin = `sha256:${'c'.repeat(64)}`;
    const out = join(tempDir('secrets'), 'out');
    const a = await cli(['render', '--stack', 'metal', '--out', out], { env: { FLAT6_CA_CERT_HASHES: pin } });
    expect(a.code, a.stderr).toBe(0);
    expect(kubeadmOf(out)).toContain(pin);
    expect(kubeadmOf(out)).not.toContain('unsafeSkipCAVerification: true');
    expect(a.stderr).not.toContain('no caCertHashes');
    expect(readFileSync(join(out, 'secrets.yaml'), 'utf8')).not.toContain(pin);
    const b = await cli(['render', '--stack', 'metal', '--out', out, '--secrets', testSecretsFile()], { env: { FLAT6_CA_CERT_HASHES: pin } });
    expect(b.code, b.stderr).toBe(0);
    expect(kubeadmOf(out)).toContain(pin);
    expect(kubeadmOf(out)).toContain(TEST_SECRETS.caCertHash);
    const before = hashTree(out);
    const c = await cli(['render', '--stack', 'metal', '--out', out], { env: { FLAT6_CA_CERT_HASHES: 'sha256:nothex' } });
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('FLAT6_CA_CERT_HASHES');
    expect(hashTree(out)).toBe(before);
  });

  it('--secrets wins over the environment', async () => {
    const out = join(tempDir('secrets'), 'out');
    const env = { FLAT6_BOOTSTRAP_TOKEN: 'envtok.0123456789envtok', FLAT6_CERTIFICATE_KEY: 'e'.repeat(64) };
    const r = await cli(['render', '--stack', 'metal', '--out', out, '--secrets', testSecretsFile()], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(tokenIn(kubeadmOf(out))).toBe(TEST_SECRETS.bootstrapToken);
  });

  it('a group- or world-readable --secrets file is refused, and nothing is written', async () => {
    const dir = tempDir('secrets');
    const file = join(dir, 'secrets.yaml');
    writeFileSync(file, readFileSync(testSecretsFile()));
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(file, mode);
      const out = join(dir, 'out');
      const r = await cli(['render', '--stack', 'metal', '--out', out, '--secrets', file]);
      expect(r.code, mode.toString(8)).toBe(2);
      expect(r.stderr).toContain(`chmod 600 ${file}`);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('a readable leftover DIR/secrets.yaml is refused too', async () => {
    const out = join(tempDir('secrets'), 'out');
    expect((await cli(['render', '--stack', 'metal', '--out', out])).code).toBe(0);
    chmodSync(join(out, 'secrets.yaml'), 0o644);
    const before = hashTree(out);
    const r = await cli(['render', '--stack', 'metal', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('chmod 600');
    expect(hashTree(out)).toBe(before);
  });

  it('malformed secrets are refused with what is wrong', async () => {
    const out = join(tempDir('secrets'), 'out');
    const r = await cli(['render', '--stack', 'metal', '--out', out], { env: { FLAT6_BOOTSTRAP_TOKEN: 'Not-A-Token', FLAT6_CERTIFICATE_KEY: 'xyz' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bootstrapToken (a string of the wrong form) must be a string matching');
    expect(r.stderr).toContain('certificateKey (a string of the wrong form) must be a string of 64 lower-case hex');
    expect(existsSync(out)).toBe(false);
  });
});

describe('render --out: what it refuses to replace', () => {
  const marker = (dir: string): string => join(dir, 'notes.txt');

  it('a non-empty directory that is not earlier flat6 output: exit 2, untouched', async () => {
    const out = tempDir('foreign');
    writeFileSync(marker(out), 'mine\n');
    const r = await cli(['render', '--stack', 'metal', '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not empty and holds no plan\.json.*Pass a new or empty directory/);
    expect(readdirSync(out)).toEqual(['notes.txt']);
    expect(atomicLeftovers(dirname(out), basename(out))).toEqual([]);
    // an empty directory and earlier output are fine
    const empty = tempDir('empty');
    expect((await cli(['render', '--stack', 'metal', '--out', empty, '--secrets', testSecretsFile()])).code).toBe(0);
    expect((await cli(['render', '--stack', 'metal', '--out', empty, '--secrets', testSecretsFile()])).code).toBe(0);
  });

  it('the current directory or one of its parents, even when it looks like earlier output', async () => {
    const cwd = await renderStack('metal');
    writeFileSync(marker(cwd), 'mine\n');
    const before = hashTree(cwd);
    for (const out of ['.', '..', cwd, dirname(cwd)]) {
      const r = await cli(['render', '--stack', 'metal', '--out', out, '--secrets', testSecretsFile()], { cwd });
      expect(r.code, out).toBe(2);
      expect(r.stderr).toMatch(/current directory/);
      expect(hashTree(cwd)).toBe(before);
    }
  });

  it('a directory holding the stack file being rendered', async () => {
    const out = await renderStack('metal');
    const stack = join(out, 'Pulumi.mine.yaml');
    writeFileSync(stack, stackText('metal'));
    const before = hashTree(out);
    const r = await cli(['render', '--stack', stack, '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`contains the stack file ${stack}`);
    expect(hashTree(out)).toBe(before);
  });

  it('filesystem errors while writing exit 2 with "cannot write output", not 70', async () => {
    const r = await cli(['render', '--stack', 'metal', '--out', '/proc/flat6-no-such/out', '--secrets', testSecretsFile()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot write output /proc/flat6-no-such/out: ');
  });

  it('stale .DIR.flat6-new-* trees of an interrupted run are removed; one a live process is writing is not', async () => {
    const parent = tempDir('stale');
    const stale = join(parent, '.out.flat6-new-999999999-abc');
    const live = join(parent, `.out.flat6-new-${process.ppid}-abc`);
    for (const d of [stale, live]) {
      mkdirSync(d);
      writeFileSync(join(d, 'secrets.yaml'), 'x', { mode: 0o600 });
    }
    const r = await cli(['render', '--stack', 'metal', '--out', join(parent, 'out'), '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(parent).sort()).toEqual([basename(live), 'out']);
  });
});

describe('a stack path relative to the working directory', () => {
  it('is read from io.cwd, not the process directory, and named relative to it', async () => {
    const cwd = tempDir('cwd');
    writeFileSync(join(cwd, 'Pulumi.here.yaml'), stackText('multirack').replace('      - { name: r2, index: 2, nodes: 4 }\n', '      - { name: r2, nodes: 4 }\n'));
    const r = await cli(['validate', '--stack', 'Pulumi.here.yaml'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Pulumi\.here\.yaml:\d+:\d+: warning LAYOUT/m);
  });
});

describe('validate checks every section the stack has', () => {
  it.each([
    ['aws-lab', 'flat6:aws'],
    ['oci-lab', 'flat6:oci'],
    ['metal', 'flat6:addons'],
  ])('%s: ok, naming %s', async (stack, section) => {
    const r = await cli(['validate', '--stack', stack]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(section);
  });
  it('a bad flat6:aws field fails validate at its line (before, only pulumi up found it)', async () => {
    const text = readFileSync(join(ROOT, 'stacks', 'Pulumi.aws-lab.yaml'), 'utf8');
    expect(text).toMatch(/natGateway: \S+/);
    const file = join(tempDir('awsbad'), 'Pulumi.awsbad.yaml');
    writeFileSync(file, text.replace(/natGateway: \S+/, 'natGateway: sometimes'));
    const r = await cli(['validate', '--stack', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Pulumi\.awsbad\.yaml:\d+:\d+: error SCHEMA_VALUE: flat6:aws\.natGateway: "sometimes" is not one of/);
  });
  it('schema --section addons prints the add-ons section', async () => {
    const r = await cli(['schema', '--section', 'addons']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { title: string }).title).toBe('flat6:addons');
  });
});
