/**
 * Hostile input, one regression test per class of defect: a bad stack, a bad
 * secrets file or a bad path never crashes flat6, never hangs, never writes
 * half a tree, and no value changes the structure of a rendered file. Each case
 * asserts the exit status (1 checks, 2 parse/usage), the code and place of the
 * diagnostic where there is one, and that nothing was written.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { asciiJson, TemplateSet, TemplateValueError } from '../src/render/templates.js';
import { atomicLeftovers, cleanupTempDirs, cli, FIXTURES, hashTree, ROOT, tempDir, testSecretsFile, TEST_SECRETS } from './helpers.js';

afterAll(cleanupTempDirs);

const GOOD = readFileSync(join(FIXTURES, 'Pulumi.good.yaml'), 'utf8');

/** Write `text` under `name` in a fresh directory; return the path. */
function stackFile(text: string, name = 'Pulumi.h.yaml'): string {
  const p = join(tempDir('hostile'), name);
  writeFileSync(p, text);
  return p;
}

/** validate and render: both exit `status`, render writes nothing, stderr holds `code` (and its place). */
async function refused(file: string, status: 1 | 2, code: string, place?: string): Promise<string> {
  const v = await cli(['validate', '--stack', file]);
  expect(v.code, v.stderr).toBe(status);
  expect(v.stderr).toContain(`error ${code}`);
  if (place) expect(v.stderr).toContain(place);
  const parent = tempDir('out');
  const out = join(parent, 'out');
  const r = await cli(['render', '--stack', file, '--out', out, '--secrets', testSecretsFile()]);
  expect(r.code, r.stderr).toBe(status);
  expect(readdirSync(parent)).toEqual([]);
  return v.stderr;
}

describe('stack names', () => {
  it('a stack name with a line break is refused, and no kubeadm file gains a key', async () => {
    const file = stackFile(GOOD, 'Pulumi.x\nskipPhases: [preflight]\n#.yaml');
    const err = await refused(file, 2, 'STACK_NAME');
    expect(err).toContain('rename the file');
  });
  it('a stack name that would be a sysctl line is refused', async () => {
    await refused(stackFile(GOOD, 'Pulumi.x\nnet.ipv4.ip_forward = 1.yaml'), 2, 'STACK_NAME');
  });
  it('a stack name of Pulumi\'s characters renders', async () => {
    const file = stackFile(GOOD, 'Pulumi.lab_2.dev-1.yaml');
    const out = join(tempDir('ok'), 'out');
    const r = await cli(['render', '--stack', file, '--out', out, '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('templates write values safely by construction', () => {
  const overlay = (name: string, text: string): TemplateSet => {
    const dir = tempDir('overlay');
    mkdirSync(join(dir, name.split('/')[0]), { recursive: true });
    writeFileSync(join(dir, name), text);
    return new TemplateSet(dir);
  };
  it.each([
    ['a line break', 'x\nkey: 1'],
    ['a carriage return', 'x\rkey: 1'],
    ['a quote', 'x"y'],
    ['a space', 'x y'],
    ['a comment sign', 'x#y'],
    ['a flow mapping', '{a: 1}'],
    ['a DEL', 'x\x7fy'],
    ['a line separator', 'x\u2028y'],
  ])('a plain {{x}} refuses %s in a YAML file', (_what, value) => {
    const t = overlay('netplan/60-flat6.yaml.hbs', '# host {{host}}\nname: {{host}}\n');
    expect(() => t.render('netplan/60-flat6.yaml.hbs', { host: value })).toThrow(TemplateValueError);
  });
  it.each([
    ['a semicolon (BIRD statement)', 'x; protocol kernel'],
    ['a brace', 'x}'],
    ['a line break', 'x\nvrrp_script y'],
    ['a quote', 'x"'],
  ])('a plain {{x}} refuses %s in a config file', (_what, value) => {
    const t = overlay('routing/node-bird.conf.hbs', 'description "{{name}}";\n');
    expect(() => t.render('routing/node-bird.conf.hbs', { name: value })).toThrow(/write \{\{json name\}\}/);
  });
  it('a plain {{x}} writes tokens, numbers and booleans as they are', () => {
    const t = overlay('haproxy/haproxy.cfg.hbs', 'server {{name}} {{endpoint}} weight {{w}} {{b}}\n');
    expect(t.render('haproxy/haproxy.cfg.hbs', { name: 'cp1', endpoint: '[2001:db8::1]:6444', w: 10, b: true })).toBe('server cp1 [2001:db8::1]:6444 weight 10 true\n');
  });
  it('a list or a mapping in a plain {{x}} is an error, not "[object Object]"', () => {
    const t = overlay('sysctl/99-flat6.conf.hbs', '# {{x}}\n');
    expect(() => t.render('sysctl/99-flat6.conf.hbs', { x: { a: 1 } })).toThrow(/is object/);
    expect(() => t.render('sysctl/99-flat6.conf.hbs', { x: [1] })).toThrow(/is a list/);
  });
  it('{{json x}} escapes every control and non-ASCII character; YAML 1.1 and 1.2 read the value back', () => {
    const hostile = 'a\x7fb\u0085c\u2028d\ne"f\\g\u00e9\u{1f600}\u0000';
    const text = `v: ${asciiJson(hostile)}\n`;
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    expect(parse(text)).toEqual({ v: hostile });
    expect(parse(text, { version: '1.1' })).toEqual({ v: hostile });
    expect(JSON.parse(asciiJson(hostile))).toBe(hostile);
  });
  it('the built-in templates never write a raw {{{triple}}}', () => {
    const dir = join(ROOT, 'templates');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.hbs'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8'), f).not.toContain('{{{');
  });
});

/** The good fixture with `from` replaced by `to` (which must occur). */
function edit(from: string, to: string, base = GOOD): string {
  expect(base).toContain(from);
  return base.replace(from, to);
}

describe('free-text fields have patterns', () => {
  it('a DEL in defaults.criSocket is a located SCHEMA_VALUE', async () => {
    const file = stackFile(edit('    racks:', '    defaults:\n      criSocket: "unix:///run/x\x7f.sock"\n    racks:'));
    const err = await refused(file, 2, 'SCHEMA_VALUE', ':15:18:');
    expect(err).toContain('"unix:///run/x\\u007f.sock"');
    expect(err).not.toContain('\x7f');
  });
  it.each([
    ['a space', 'unix:///run/containerd/c d.sock'],
    ['a YAML break', 'unix:///x\nskipPhases: [preflight]'],
    ['another scheme', 'tcp://10.0.0.1:2375'],
  ])('criSocket with %s is refused', async (_w, value) => {
    await refused(stackFile(edit('    racks:', `    defaults:\n      criSocket: ${JSON.stringify(value)}\n    racks:`)), 2, 'SCHEMA_VALUE');
  });
});

describe('YAML aliases', () => {
  it('an unresolved alias is a located YAML_SYNTAX error', async () => {
    await refused(stackFile(edit('      dns: ["2001:db8:53::53"]', '      dns: *nowhere')), 2, 'YAML_SYNTAX');
  });
  it('an alias bomb is refused quickly with a located error', async () => {
    const lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
    const text = `${lines.join('\n')}\n${GOOD}`;
    const t0 = Date.now();
    const err = await refused(stackFile(text), 2, 'YAML_SYNTAX');
    expect(err).toMatch(/Pulumi\.h\.yaml:2:\d+:/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
  it('a few aliases are fine', async () => {
    const text = edit('      dns: ["2001:db8:53::53"]', '      dns: &dns ["2001:db8:53::53"]\n      dnsDomain: cluster.local');
    const v = await cli(['validate', '--stack', stackFile(text)]);
    expect(v.code, v.stderr).toBe(0);
  });
});

describe('numbers', () => {
  it.each([
    ['controlPlane.count of 10^9', edit('      count: 1', '      count: 1000000000'), 2],
    ['a rack of 10^9 nodes', edit('        nodes: 2', '        nodes: 1000000000'), 2],
    ['2^60 generated racks', edit('    racks:\n      - name: r0\n        nodes: 2', '    racks:\n      count: 1152921504606846976\n      nodes: 1'), 2],
    ['a slot of 2^53 + 1', edit('        nodes: 2', '        nodes:\n          - { name: a, slot: 9007199254740993 }'), 2],
    ['an mtu of 1e400', edit('      dns:', '      mtu: 1e400\n      dns:'), 2],
  ])('%s is refused with a located error', async (_what, text, status) => {
    const t0 = Date.now();
    await refused(stackFile(text), status as 1 | 2, 'SCHEMA_');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
  it('2^53 + 1 is reported as too large to read exactly, not rounded', async () => {
    const v = await cli(['validate', '--stack', stackFile(edit('        nodes: 2', '        nodes:\n          - { name: a, slot: 9007199254740993 }'))]);
    expect(v.stderr).toMatch(/too large to be read exactly|above the maximum/);
  });
  it('a list of 200,000 racks is checked without a crash', async () => {
    const racks = Array.from({ length: 200_000 }, (_, i) => `      - { name: r${i}, index: ${i}, nodes: 1 }`).join('\n');
    const text = edit('    racks:\n      - name: r0\n        nodes: 2', `    racks:\n${racks}`);
    const v = await cli(['validate', '--stack', stackFile(text)]);
    expect([0, 1]).toContain(v.code);
  }, 120_000);
});

describe('unknown keys named like Object.prototype members', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])('%s is an unknown field', async (key) => {
    await refused(stackFile(edit('    controlPlane:', `    ${key}: 1\n    controlPlane:`)), 2, 'SCHEMA_UNKNOWN_FIELD', `:11:5:`);
  });
  it('__proto__ inside a nested section too', async () => {
    await refused(stackFile(edit('      count: 1', '      count: 1\n      __proto__: { vip: "2001:db8:1::3" }')), 2, 'SCHEMA_UNKNOWN_FIELD');
  });
});


describe('secrets of the wrong shape', () => {
  const secrets = (body: string): string => {
    const p = join(tempDir('secrets'), 'secrets.yaml');
    writeFileSync(p, body, { mode: 0o600 });
    chmodSync(p, 0o600);
    return p;
  };
  const good = `bootstrapToken: "${TEST_SECRETS.bootstrapToken}"\ncertificateKey: "${TEST_SECRETS.certificateKey}"\n`;
  it.each([
    ['caCertHashes of the wrong type', `${good}caCertHashes: 5\n`, /caCertHashes \(a number\) must be a list/],
    ['caCertHashes as a plain string', `${good}caCertHashes: "${TEST_SECRETS.caCertHash}"\n`, /caCertHashes \(a string of the wrong form\) must be a list/],
    ['a list as the token', `bootstrapToken: ["${TEST_SECRETS.bootstrapToken}"]\ncertificateKey: "${TEST_SECRETS.certificateKey}"\n`, /bootstrapToken \(a list\) must be a string/],
    ['a mapping as the key', `bootstrapToken: "${TEST_SECRETS.bootstrapToken}"\ncertificateKey: { a: 1 }\n`, /certificateKey \(a mapping\) must be a string/],
    ['a number in the pins', `${good}caCertHashes: [1]\n`, /caCertHashes\[0\] \(a number\)/],
    ['an unknown key', `${good}token: x\n`, /unknown key\(s\) "token"/],
    ['a list at the top', `- a\n`, /must be a YAML mapping/],
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n${good}`, /cannot read secrets file/],
  ])('%s: exit 2 with one clear message, nothing written', async (_what, body, message) => {
    const parent = tempDir('out');
    const r = await cli(['render', '--out', join(parent, 'out'), '--secrets', secrets(body)]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n').length).toBeLessThan(8);
    expect(readdirSync(parent)).toEqual([]);
  });
  it('a secret value is never echoed in the error', async () => {
    const r = await cli(['render', '--out', join(tempDir('out'), 'out'), '--secrets', secrets(`bootstrapToken: "abcdef.0123456789abcdeX"\ncertificateKey: "${TEST_SECRETS.certificateKey}"\n`)]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('0123456789abcdeX');
  });
});

describe('file-system edges', () => {
  it('--stack on a FIFO is refused at once instead of waiting for a writer', async () => {
    const fifo = join(tempDir('fifo'), 'Pulumi.fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    const r = await cli(['validate', '--stack', fifo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/FILE_READ: cannot read stack file .*not a regular file \(a FIFO\)/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
  it('--stack /dev/zero is refused without reading it', async () => {
    const r = await cli(['validate', '--stack', '/dev/zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a regular file \(a device\)/);
  });
  it('a stack file above the size limit is refused', async () => {
    const file = stackFile(`${GOOD}\n${'# padding\n'.repeat(7_000_000)}`);
    const r = await cli(['validate', '--stack', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/larger than the \d+ a stack file may have/);
  });
  it('--out under a regular file exits 2 ("cannot write output"), nothing left behind', async () => {
    const parent = tempDir('enotdir');
    writeFileSync(join(parent, 'file'), 'x');
    const r = await cli(['render', '--out', join(parent, 'file', 'out'), '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('cannot write output');
    expect(readdirSync(parent)).toEqual(['file']);
  });
  it('an --out name too long for its temporary siblings exits 2 with the limit', async () => {
    const parent = tempDir('long');
    const r = await cli(['render', '--out', join(parent, 'o'.repeat(240)), '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/at most \d+ bytes/);
    expect(readdirSync(parent)).toEqual([]);
  });
  it('a render that fails after creating --out\'s parents removes them again', async () => {
    const parent = tempDir('parents');
    const overlay = join(parent, 'overlay');
    mkdirSync(join(overlay, 'netplan'), { recursive: true });
    writeFileSync(join(overlay, 'netplan', '60-flat6.yaml.hbs'), '{{#if iface}}unclosed\n');
    const r = await cli(['render', '--out', join(parent, 'new', 'a', 'b', 'out'), '--templates', overlay, '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('template');
    expect(readdirSync(parent)).toEqual(['overlay']);
  });
  it('--templates naming a regular file is a usage error', async () => {
    const parent = tempDir('tplfile');
    writeFileSync(join(parent, 'templates'), 'x');
    const r = await cli(['render', '--out', join(parent, 'out'), '--templates', join(parent, 'templates'), '--secrets', testSecretsFile()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a directory');
    expect(existsSync(join(parent, 'out'))).toBe(false);
  });
  it.each([
    ['--secrets', (out: string) => {
      const p = join(out, 'mine.yaml');
      writeFileSync(p, readFileSync(testSecretsFile()), { mode: 0o600 });
      return p;
    }],
    ['--templates', (out: string) => {
      const p = join(out, 'tpl');
      mkdirSync(p);
      return p;
    }],
  ])('%s inside the output directory is refused, and kept', async (flag, make) => {
    const out = await (async () => {
      const dir = join(tempDir('inside'), 'out');
      const first = await cli(['render', '--out', dir, '--secrets', testSecretsFile()]);
      expect(first.code, first.stderr).toBe(0);
      return dir;
    })();
    const input = make(out);
    const before = hashTree(out);
    const args = ['render', '--out', out, flag, input];
    if (flag !== '--secrets') args.push('--secrets', testSecretsFile());
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`contains the ${flag} (file|directory)`));
    expect(hashTree(out)).toBe(before);
    expect(atomicLeftovers(join(out, '..'), 'out')).toEqual([]);
  });
});

describe('a kubeadm template overlay is checked against kubeadm\'s schema', () => {
  it('a misspelt field is a located KUBEADM_SCHEMA error with a hint, exit 1, nothing written', async () => {
    const parent = tempDir('kovl');
    const overlay = join(parent, 'overlay');
    mkdirSync(join(overlay, 'kubeadm'), { recursive: true });
    const init = readFileSync(join(ROOT, 'templates', 'kubeadm', 'init.yaml.hbs'), 'utf8');
    expect(init).toContain('  podSubnet: ');
    writeFileSync(join(overlay, 'kubeadm', 'init.yaml.hbs'), init.replace('  podSubnet: ', '  podSubnett: '));
    const r = await cli(['render', '--out', join(parent, 'out'), '--templates', overlay, '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/init\.yaml\.hbs \(rendered for cp1\):\d+:\d+: error KUBEADM_SCHEMA: .*podSubnett/);
    expect(r.stderr).toContain('podSubnet');
    expect(readdirSync(parent)).toEqual(['overlay']);
  });
  it('an overlay that keeps to the schema renders', async () => {
    const parent = tempDir('kovl2');
    const overlay = join(parent, 'overlay');
    mkdirSync(join(overlay, 'kubeadm'), { recursive: true });
    const join_ = readFileSync(join(ROOT, 'templates', 'kubeadm', 'join.yaml.hbs'), 'utf8');
    writeFileSync(join(overlay, 'kubeadm', 'join.yaml.hbs'), `# site overlay\n${join_}`);
    const r = await cli(['render', '--out', join(parent, 'out'), '--templates', overlay, '--secrets', testSecretsFile()]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(parent, 'out', 'hosts', 'worker1', 'etc', 'flat6', 'kubeadm.yaml'), 'utf8')).toMatch(/^# site overlay\n/);
  });
});

describe('the kubeadm schema check reads own fields only', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('a field named %s is unknown, and an apiVersion or kind of that name is refused', async (name) => {
    const { checkKubeadmFile } = await import('../src/kubeschema/check.js');
    const base = 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.33.4\n';
    const field = checkKubeadmFile(`${base}${name}: 1\n`, 'k.yaml');
    expect(field.map((d) => d.code)).toContain('KUBEADM_SCHEMA');
    expect(field.some((d) => d.location?.line === 4)).toBe(true);
    expect(checkKubeadmFile(`apiVersion: ${name}\nkind: ClusterConfiguration\n`, 'k.yaml').length).toBeGreaterThan(0);
    expect(checkKubeadmFile(`apiVersion: kubeadm.k8s.io/v1beta4\nkind: ${name}\n`, 'k.yaml').length).toBeGreaterThan(0);
  });
});
