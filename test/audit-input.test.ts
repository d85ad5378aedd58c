/**
 * flat6 audit's input: every form a dump comes in, line numbers, directories
 * and notes, standard input, and hostile input (alias bombs, deep nesting,
 * binary data, huge documents, devices, Secrets that look like addresses):
 * clear errors or findings, never a crash or a hang, never a Secret value in
 * any output.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonLineOf } from '../src/audit/input/json-locate.js';
import { JsonScanner } from '../src/audit/input/json-scan.js';
import { YamlSplitter } from '../src/audit/input/yaml-split.js';
import { cleanupTempDirs, tempDir } from './helpers.js';
import { auditJson, flat6 } from './fixtures/audit/harness.js';

afterAll(cleanupTempDirs);

const svc = (name: string, policy = 'RequireDualStack'): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' }, spec: { ipFamilyPolicy: policy, selector: { app: name } } });

function write(dir: string, name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('the forms a dump comes in', () => {
  it('kubectl get -o yaml: a List whose items start at column 0, with lines of the file', async () => {
    const dir = tempDir('list0');
    const text = `apiVersion: v1
items:
- apiVersion: v1
  kind: Service
  metadata:
    name: a
    namespace: ns
  spec:
    ipFamilyPolicy: RequireDualStack
- apiVersion: v1
  kind: Service
  metadata:
    name: b
    namespace: ns
  spec:
    ipFamilyPolicy: PreferDualStack
kind: List
metadata:
  resourceVersion: ""
`;
    const r = await auditJson([write(dir, 'dump.yaml', text)]);
    expect(r.report.findings.map((f) => [f.name, f.code, f.source.split(':').pop()])).toEqual([
      ['a', 'SERVICE_REQUIRE_DUAL_STACK', '9'],
      ['b', 'SERVICE_PREFER_DUAL_STACK', '16'],
    ]);
    expect(r.report.summary.objects).toBe(2);
  });

  it('a List indented by two, a typed list whose kind comes after its items, and a flow-style list', async () => {
    const text = `items:
  - metadata: {name: a, namespace: ns}
    spec:
      ipFamilyPolicy: RequireDualStack
  # a comment between items
  - metadata: {name: b, namespace: ns}
    spec: {ipFamilies: [IPv4]}
kind: ServiceList
apiVersion: v1
---
{apiVersion: v1, kind: List, items: [{apiVersion: v1, kind: Service, metadata: {name: c}, spec: {ipFamilyPolicy: PreferDualStack}}]}
`;
    const r = await auditJson(['-'], { stdin: text });
    expect(r.report.findings.map((f) => [f.kind, f.name, f.code, f.source])).toEqual([
      ['Service', 'a', 'SERVICE_REQUIRE_DUAL_STACK', '<stdin>:4'],
      ['Service', 'b', 'SERVICE_IPV4_FAMILY', '<stdin>:7'],
      ['Service', 'c', 'SERVICE_PREFER_DUAL_STACK', '<stdin>:11'],
    ]);
    expect(r.stderr).toBe('');
  });

  it('helm template output on standard input, with # Source comments and empty documents', async () => {
    const text = `---
# Source: shop/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  ipFamilyPolicy: RequireDualStack
---
# Source: shop/templates/empty.yaml
---
# Source: shop/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop
data:
  redis.conf: |
    bind 0.0.0.0
...
`;
    const r = await auditJson(['-'], { stdin: Readable.from([text.slice(0, 37), text.slice(37, 100), text.slice(100)]) });
    expect(r.report.findings.map((f) => [f.kind, f.source])).toEqual([
      ['Service', '<stdin>:8'],
      ['ConfigMap', '<stdin>:19'],
    ]);
    expect(r.code).toBe(1);
  });

  it('JSON: one object, objects one after another, an array, a raw API typed list, a minified List', async () => {
    const dir = tempDir('json');
    const one = write(dir, 'one.json', JSON.stringify(svc('one'), null, 2));
    const many = write(dir, 'many.json', `${JSON.stringify(svc('m1'))}\n${JSON.stringify(svc('m2'))}\n`);
    const array = write(dir, 'array.json', JSON.stringify([svc('a1'), svc('a2')], null, 1));
    const typed = write(dir, 'typed.json', JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [{ metadata: { name: 't1', namespace: 'ns' }, spec: { ipFamilyPolicy: 'RequireDualStack' } }] }));
    const mini = write(dir, 'mini.json', JSON.stringify({ apiVersion: 'v1', items: [svc('n1'), svc('n2')], kind: 'List' }));
    const r = await auditJson([one, many, array, typed, mini]);
    expect(r.report.findings.map((f) => `${f.kind}/${f.name}`)).toEqual(['Service/one', 'Service/m1', 'Service/m2', 'Service/a1', 'Service/a2', 'Service/t1', 'Service/n1', 'Service/n2']);
    expect(r.report.findings.find((f) => f.name === 'm2')!.source).toBe(`${many}:2`);
  });

  it('the JSON scanner and the YAML splitter give the same units whatever the chunk boundaries', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [svc('a'), { x: 'a "quoted" \\ } ] { [ string' }, svc('b')] }, null, 2);
    const whole = new JsonScanner('f').push(json);
    for (const size of [1, 2, 3, 7, 64]) {
      const s = new JsonScanner('f');
      const units = [];
      for (let i = 0; i < json.length; i += size) units.push(...s.push(json.slice(i, i + size)));
      units.push(...s.end());
      expect(units).toEqual(whole);
    }
    expect(whole.map((u) => u.kind)).toEqual(['item', 'item', 'item', 'envelope']);
    expect(JSON.parse(whole[3].text)).toEqual({ apiVersion: 'v1', kind: 'List', items: [] });
    const yaml = 'a: 1\n---\nitems:\n- x: 1\n  y: |\n    ---not a marker\n- z: 2\nkind: List\n';
    const y1 = new YamlSplitter('f');
    const wholeY = [...y1.push(yaml), ...y1.end()];
    for (const size of [1, 5]) {
      const s = new YamlSplitter('f');
      const units = [];
      for (let i = 0; i < yaml.length; i += size) units.push(...s.push(yaml.slice(i, i + size)));
      units.push(...s.end());
      expect(units).toEqual(wholeY);
    }
    expect(wholeY.map((u) => [u.kind, u.line])).toEqual([['doc', 1], ['item', 4], ['item', 7], ['envelope', 2]]);
  });
});

it('the line of a field in JSON text: nested lists and maps, escaped keys, strings that look like structure', () => {
  const text = JSON.stringify({ a: { 'x"y': [1, { b: '}],{' }, [2, 3]], 'k\u00e9': null }, c: [{ d: 'v' }] }, null, 2);
  const at = (p: Array<string | number>): string => text.split('\n')[jsonLineOf(text, p) - 1].trim();
  expect(at(['a', 'x"y', 1, 'b'])).toBe('"b": "}],{"');
  expect(at(['a', 'x"y', 2, 1])).toBe('3');
  expect(at(['a', 'k\u00e9'])).toBe('"k\u00e9": null');
  expect(at(['c', 0, 'd'])).toBe('"d": "v"');
  // a path that is not there: its deepest ancestor
  expect(at(['c', 0, 'nope'])).toBe('{');
  expect(jsonLineOf('{"a": 1}', ['a'])).toBe(1);
});

describe('directories and notes', () => {
  it('reads .yaml, .yml and .json recursively, notes everything else, never enters .git or node_modules', async () => {
    const dir = tempDir('tree');
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    mkdirSync(join(dir, '.git'));
    mkdirSync(join(dir, 'node_modules'));
    write(join(dir, 'a'), 'one.yaml', `apiVersion: v1\nkind: Service\nmetadata: {name: one}\nspec: {ipFamilyPolicy: RequireDualStack}\n`);
    write(join(dir, 'a', 'b'), 'two.yml', `apiVersion: v1\nkind: Service\nmetadata: {name: two}\nspec: {ipFamilyPolicy: RequireDualStack}\n`);
    write(join(dir, 'a', 'b'), 'three.json', JSON.stringify(svc('three')));
    write(join(dir, '.git'), 'x.yaml', `apiVersion: v1\nkind: Service\nmetadata: {name: git}\nspec: {ipFamilyPolicy: RequireDualStack}\n`);
    write(join(dir, 'node_modules'), 'x.json', JSON.stringify(svc('nm')));
    write(dir, 'notes.txt', 'bind 0.0.0.0');
    write(dir, 'netplan.yaml', 'network:\n  version: 2\n');
    symlinkSync(join(dir, 'a', 'one.yaml'), join(dir, 'link.yaml'));
    const r = await auditJson([dir]);
    // depth first, in name order: a/b/ sorts before a/one.yaml
    expect(r.report.findings.map((f) => f.name)).toEqual(['three', 'two', 'one']);
    expect(r.stderr).toMatch(/note: 2 directories not entered \(\.git, node_modules\)/);
    expect(r.stderr).toMatch(/note: 1 files in directories not read \(not \.yaml, \.yml or \.json\): .*notes\.txt/);
    expect(r.stderr).toMatch(/note: 1 symbolic links in directories not followed: .*link\.yaml/);
    expect(r.stderr).toMatch(/note: 1 documents that are not Kubernetes objects .*netplan\.yaml:1/);
    expect(r.code).toBe(1);
  });

  it('--exclude-kind leaves a kind out and says so', async () => {
    const r = await auditJson(['--exclude-kind', 'service', '-'], { stdin: JSON.stringify(svc('x')) });
    expect(r.report.findings).toEqual([]);
    expect(r.report.summary.objects).toBe(0);
    expect(r.stderr).toMatch(/note: 1 objects not audited \(--exclude-kind\): Service/);
  });

  it('a missing file is unusable input; the rest is still audited', async () => {
    const dir = tempDir('missing');
    const ok = write(dir, 'ok.json', JSON.stringify(svc('ok')));
    const r = await auditJson([join(dir, 'nope.yaml'), ok]);
    expect(r.code).toBe(2);
    expect(r.report.findings.map((f) => f.name)).toEqual(['ok']);
    expect(r.stderr).toMatch(/error: .*nope\.yaml: cannot read: no such file or directory/);
  });
});

describe('unusable input: which file, which line', () => {
  it('a YAML syntax error names its line, the documents around it are still audited', async () => {
    const dir = tempDir('syntax');
    const f = write(dir, 'bad.yaml', `apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ipFamilyPolicy: RequireDualStack}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n   bad: indent\n---\napiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec: {ipFamilyPolicy: RequireDualStack}\n`);
    const r = await auditJson([f]);
    expect(r.code).toBe(2);
    expect(r.report.findings.map((f) => f.name)).toEqual(['a', 'c']);
    expect(r.stderr).toMatch(/error: .*bad\.yaml:9: YAML: Nested mappings/);
  });

  it('invalid JSON names its line', async () => {
    const dir = tempDir('badjson');
    const f = write(dir, 'bad.json', '{\n  "apiVersion": "v1",\n  "items": [\n    {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "x"}, }\n  ]\n}\n');
    const r = await auditJson([f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: .*bad\.json:4: invalid JSON/);
  });

  it('a JSON file that ends inside a value, or closes what it never opened', async () => {
    const dir = tempDir('badjson2');
    expect((await flat6(['audit', write(dir, 'a.json', '{"items": [ {"a": 1}')])).stderr).toMatch(/a\.json:1: the JSON ends inside a value/);
    expect((await flat6(['audit', write(dir, 'b.json', '{"a": 1}\n]')])).stderr).toMatch(/b\.json:2: expected a JSON object or array/);
    expect((await flat6(['audit', write(dir, 'c.json', '{"a": [1}')])).stderr).toMatch(/c\.json:1: unbalanced "\}"/);
  });
});

describe('hostile input', () => {
  const secretValue = '192.0.2.200:8443';
  const secretB64 = Buffer.from(`bind 0.0.0.0\nupstream ${secretValue}\n`).toString('base64');

  it('a YAML alias bomb is refused at its line, fast', async () => {
    const bomb = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: lol}', 'data:', '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    let prev = 'a';
    for (const n of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) {
      bomb.push(`  ${n}: &${n} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`);
      prev = n;
    }
    const r = await auditJson(['-'], { stdin: bomb.join('\n') + '\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/<stdin>:1: YAML aliases expand beyond 100 references/);
  });

  it('deep nesting in YAML (flow and block) and JSON is refused, not a stack overflow', async () => {
    const depth = 100_000;
    const flow = await auditJson(['-'], { stdin: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: ${'['.repeat(depth)}${']'.repeat(depth)}\n` });
    expect(flow.code).toBe(2);
    expect(flow.stderr).toMatch(/<stdin>:\d+: (YAML|the document nests deeper)/);
    let block = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\nspec:\n';
    for (let i = 1; i < 300; i++) block += `${' '.repeat(i * 2)}k:\n`;
    const b = await auditJson(['-'], { stdin: block + `${' '.repeat(600)}v: 1\n` });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/the document nests deeper than 100 levels/);
    const json = await auditJson(['-'], { stdin: `{"apiVersion":"v1","kind":"ConfigMap","data":${'['.repeat(depth)}${']'.repeat(depth)}}` });
    expect(json.code).toBe(2);
    expect(json.stderr).toMatch(/<stdin>:1: JSON nests deeper than 100 levels/);
  });

  it('binary data is refused: a PNG, a NUL in the middle, invalid UTF-8', async () => {
    const dir = tempDir('binary');
    const png = write(dir, 'logo.yaml', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    const nul = write(dir, 'nul.yaml', Buffer.concat([Buffer.from('apiVersion: v1\nkind: Service\n'), Buffer.from([0]), Buffer.from('\n')]));
    const latin1 = write(dir, 'latin1.json', Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
    const r = await flat6(['audit', png, nul, latin1]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/logo\.yaml:1: binary data: the input is not UTF-8 text/);
    expect(r.stderr).toMatch(/nul\.yaml:3: binary data: a NUL byte/);
    expect(r.stderr).toMatch(/latin1\.json:1: binary data/);
  });

  it('a device or a pipe named as a path is refused, not read forever', async () => {
    const dir = tempDir('fifo');
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    const r = await flat6(['audit', '/dev/zero', join(dir, 'pipe.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/dev\/zero: not a regular file or directory/);
    expect(r.stderr).toMatch(/pipe\.yaml: not a regular file or directory/);
  });

  it('a document larger than 64 MiB is refused at its first line (the rest of that file is not read)', async () => {
    const big = 'x'.repeat(1 << 20);
    const chunks = ['apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n'];
    for (let i = 0; i < 66; i++) chunks.push(`  k${i}: ${big}\n`);
    chunks.push(`---\n${JSON.stringify(svc('after'))}\n`);
    const r = await auditJson(['-'], { stdin: Readable.from(chunks) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/<stdin>:1: a YAML document is larger than 64 MiB/);
  });

  it('a huge single line (no newline) is refused', async () => {
    const line = Buffer.alloc(65 * 1024 * 1024, 0x61);
    const r = await flat6(['audit', '-'], { stdin: Readable.from([line.subarray(0, 1 << 25), line.subarray(1 << 25)]) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/<stdin>:1: a line longer than 64 MiB/);
  });

  it('a large valid dump (20,000 objects) audits completely', async () => {
    const items = [];
    for (let i = 0; i < 20_000; i++) items.push(i % 2 ? svc(`s${i}`) : svc(`s${i}`, 'SingleStack'));
    const r = await auditJson(['-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
    expect(r.report.summary).toEqual({ objects: 20_000, blockers: 10_000, warnings: 0 });
  });

  it('a Secret whose values look like addresses: findings by key and line, its values in no output', async () => {
    const secret = `apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ns}
data:
  redis.conf: ${secretB64}
stringData:
  url: "postgres://app:hunter2@192.0.2.201:5432/db"
  password: "${secretValue}"
`;
    const outputs: string[] = [];
    for (const format of ['human', 'json', 'sarif']) {
      const r = await flat6(['audit', '--format', format, '-'], { stdin: secret });
      expect(r.code).toBe(1);
      outputs.push(r.stdout, r.stderr);
    }
    const all = outputs.join('\n');
    for (const leak of [secretValue, 'hunter2', '192.0.2.200', '192.0.2.201', 'postgres://', secretB64]) expect(all).not.toContain(leak);
    const j = await auditJson(['-'], { stdin: secret });
    expect(j.report.findings.map((f) => [f.code, f.path, f.message.split(':')[0]])).toEqual([
      ['IPV4_WILDCARD_BIND', 'data["redis.conf"]', 'line 1'],
      ['IPV4_LITERAL_ADDRESS', 'data["redis.conf"]', 'line 2'],
      ['IPV4_LITERAL_ADDRESS', 'stringData.url', 'line 1'],
      ['IPV4_LITERAL_ADDRESS', 'stringData.password', 'line 1'],
    ]);
    for (const f of j.report.findings) expect(f.message).toContain('value not shown: Secret');
  });

  it('a broken Secret is reported by line without its content', async () => {
    const r1 = await flat6(['audit', '-'], { stdin: `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  token: "${secretValue}\n` });
    const r2 = await flat6(['audit', '-'], { stdin: `{"apiVersion":"v1","kind":"Secret","stringData":{"token":"${secretValue}" "x"}}` });
    for (const r of [r1, r2]) {
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).not.toContain('192.0.2.200');
    }
    expect(r1.stderr).toMatch(/<stdin>:5: YAML: /);
    expect(r2.stderr).toMatch(/<stdin>:1: invalid JSON/);
  });

  it('control characters in names and values cannot reach the terminal', async () => {
    const evil = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x\u001b[2J\u001b]0;pwned\u0007', namespace: 'n\r\nFAKE' }, spec: { ipFamilyPolicy: 'RequireDualStack' } };
    const r = await flat6(['audit', '-'], { stdin: JSON.stringify(evil) });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(r.stdout).toContain('\\u001b[2J');
  });

  it('an object with a flood of findings is reported up to 200 of them, and says so', async () => {
    const env = Array.from({ length: 5000 }, (_, i) => ({ name: `HOST_${i}`, value: '0.0.0.0' }));
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'flood' }, spec: { containers: [{ name: 'c', env }] } };
    const r = await auditJson(['-'], { stdin: JSON.stringify(pod, null, 1) });
    expect(r.report.findings).toHaveLength(200);
    expect(r.report.findings[199].source).toBe(`<stdin>:${JSON.stringify(pod, null, 1).split('\n').findIndex((l) => l.includes('"HOST_199"')) + 2}`);
    expect(r.stderr).toMatch(/note: 1 objects with more than 200 findings: only the first 200 of each are reported: <stdin>:1 \(5000\)/);
  });

  it('objects of any shape never crash a rule', async () => {
    const odd = [
      { apiVersion: 'v1', kind: 'Service', spec: { ipFamilies: 'IPv4', clusterIPs: 5, externalIPs: [null, 1, {}], loadBalancerIP: [] }, status: { loadBalancer: { ingress: 'x' } } },
      { apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ args: [1, null, { a: 1 }], env: [null, { name: 1 }, { name: 'X', value: 5 }], livenessProbe: 'x', ports: 'y' }], hostAliases: [null, { ip: 1 }], dnsConfig: { nameservers: 'x' } } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: 'x', data: { a: 1, b: null, 'c.conf': 'server {'.repeat(10000) } },
      { apiVersion: 'v1', kind: 'Secret', data: { a: '!!!not base64!!!', b: 5 } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', spec: { ingress: [{ from: [{ ipBlock: { cidr: 7 } }] }], egress: 'x' } },
      { apiVersion: 'v1', kind: 'Node', spec: { podCIDRs: [null] }, status: { addresses: [{ type: 'InternalIP' }] } },
      { apiVersion: 'v1', kind: 'Endpoints', subsets: [{ addresses: 'x' }, null] },
      { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', bindAddress: ['0.0.0.0'], clusterCIDR: 10 },
      { apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'ClusterConfiguration', apiServer: { extraArgs: [null, { name: 'bind-address' }] }, etcd: { local: null } },
      { apiVersion: 'x/v1', kind: 'Thing', spec: { deep: { containers: [{ name: 'c', args: ['--listen=0.0.0.0:1'] }] } } },
    ];
    const r = await auditJson(['-'], { stdin: odd.map((o) => JSON.stringify(o)).join('\n') });
    expect(r.code).toBe(1);
    expect(r.report.summary.objects).toBe(odd.length);
    expect(r.report.findings.map((f) => `${f.kind} ${f.code}`)).toEqual(['Thing IPV4_WILDCARD_BIND']);
  });
});
