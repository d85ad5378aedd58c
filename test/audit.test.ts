/**
 * flat6 audit, end to end through the CLI: one fixture pair per finding code
 * in both forms (YAML manifests and a kubectl List in JSON) with identical
 * findings, the clean set, the rendered metal stack, the acceptance dump,
 * exit statuses and the three report formats (SARIF validated against the
 * SARIF 2.1.0 schema).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CODE_LIST, CODES } from '../src/audit/codes.js';
import { cleanupTempDirs, readTree, renderStack, tempDir } from './helpers.js';
import { AUDIT_FIXTURES, CODES_DIR, asExpected, auditJson, expectations, flat6, kubectlList, sorted, yamlObjects, type JsonFinding } from './fixtures/audit/harness.js';

afterAll(cleanupTempDirs);

const UPDATE = process.env['UPDATE_FIXTURES'] === '1';

/** The kubectl List JSON form of every YAML fixture: written with UPDATE_FIXTURES=1, otherwise checked. */
function jsonForm(yamlFile: string): string {
  const jsonFile = yamlFile.replace(/\.yaml$/, '.json');
  const want = kubectlList(yamlObjects(yamlFile));
  if (UPDATE) writeFileSync(jsonFile, want);
  return jsonFile;
}

const withoutSource = (fs: JsonFinding[]): Array<Record<string, unknown>> => fs.map((f) => Object.fromEntries(Object.entries(f).filter(([k]) => k !== 'source')));

describe('one fixture pair per finding code, in YAML and as a kubectl List', () => {
  it('every code has a bad and a fixed fixture in both forms, and nothing else is in codes/', () => {
    const files = readdirSync(CODES_DIR).sort();
    const want = CODE_LIST.flatMap((c) => [`${c}.bad.json`, `${c}.bad.yaml`, `${c}.fixed.json`, `${c}.fixed.yaml`]).sort();
    expect(files).toEqual(want);
  });

  for (const code of CODE_LIST) {
    describe(code, () => {
      const bad = join(CODES_DIR, `${code}.bad.yaml`);
      const fixed = join(CODES_DIR, `${code}.fixed.yaml`);

      it('the JSON List holds exactly the objects of the YAML manifests', () => {
        for (const y of [bad, fixed]) {
          const j = jsonForm(y);
          const list = JSON.parse(readFileSync(j, 'utf8')) as { kind: string; items: unknown[] };
          expect(list.kind).toBe('List');
          expect(list.items).toEqual(yamlObjects(y));
        }
      });

      it('the bad form reports exactly its expected findings, the same in both forms', async () => {
        const expected = expectations(yamlObjects(bad));
        expect(expected.some((e) => e.code === code)).toBe(true);
        const y = await auditJson([bad]);
        const j = await auditJson([jsonForm(bad)]);
        expect(sorted(y.report.findings.map(asExpected))).toEqual(sorted(expected));
        expect(withoutSource(j.report.findings)).toEqual(withoutSource(y.report.findings));
        expect(j.report.summary).toEqual(y.report.summary);
        const blockers = expected.filter((e) => e.severity === 'blocker').length;
        expect(y.code).toBe(blockers ? 1 : 0);
        expect(j.code).toBe(y.code);
        // every finding points at a line of the file it came from
        for (const [r, file] of [[y, bad], [j, jsonForm(bad)]] as const) {
          const lines = readFileSync(file, 'utf8').split('\n').length;
          for (const f of r.report.findings) {
            const m = /^(.+):(\d+)$/.exec(f.source);
            expect(m?.[1]).toBe(file.slice(process.cwd().length + 1));
            expect(Number(m?.[2])).toBeGreaterThan(0);
            expect(Number(m?.[2])).toBeLessThanOrEqual(lines);
          }
        }
        expect(y.stderr).toBe('');
      });

      it('--fail-on warning makes any finding fail', async () => {
        const r = await auditJson(['--fail-on', 'warning', bad]);
        expect(r.code).toBe(1);
      });

      it('the fixed form audits clean in both forms', async () => {
        for (const f of [fixed, jsonForm(fixed)]) {
          const r = await auditJson(['--fail-on', 'warning', f]);
          expect(r.report.findings).toEqual([]);
          expect(r.report.summary.objects).toBe(yamlObjects(fixed).length);
          expect(r.code).toBe(0);
        }
      });
    });
  }
});

describe('where findings point', () => {
  const line = (file: string, n: number): string => readFileSync(file, 'utf8').split('\n')[n - 1];
  const cases: Array<[string, string, RegExp]> = [
    ['SERVICE_IPV4_FAMILY.bad.yaml', 'spec.ipFamilies[0]', /^\s+- IPv4$/],
    ['SERVICE_IPV4_FAMILY.bad.json', 'spec.ipFamilies[0]', /"IPv4"/],
    ['NETWORK_POLICY_IPV4_CIDR.bad.yaml', 'spec.egress[0].to[0].ipBlock.cidr', /cidr: 0\.0\.0\.0\/0/],
    ['NETWORK_POLICY_IPV4_CIDR.bad.json', 'spec.ingress[0].from[0].ipBlock.cidr', /"cidr": "10\.0\.0\.0\/8"/],
    ['IPV4_WILDCARD_BIND.bad.yaml', 'spec.template.spec.containers[1].command[2]', /http\.server --bind 0\.0\.0\.0/],
    ['COMPONENT_IPV4_CLUSTER_DNS.bad.yaml', 'data.kubelet.clusterDNS[0]', /^\s+- 10\.96\.0\.10$/],
    ['COMPONENT_IPV4_AUX_BIND.bad.yaml', 'data["config.conf"].healthzBindAddress', /healthzBindAddress: 0\.0\.0\.0:10256/],
  ];
  for (const [file, path, re] of cases) {
    it(`${file} ${path}`, async () => {
      const f = join(CODES_DIR, file);
      const r = await auditJson([f]);
      const hit = r.report.findings.find((x) => x.path === path)!;
      expect(hit).toBeDefined();
      expect(line(f, Number(/:(\d+)$/.exec(hit.source)![1]))).toMatch(re);
    });
  }

  it('the line of a nginx listen inside a ConfigMap value is the file line of that listen', async () => {
    const f = join(CODES_DIR, 'NGINX_LISTEN_IPV4_ONLY.bad.yaml');
    const r = await auditJson([f]);
    const lines = r.report.findings.map((x) => line(f, Number(/:(\d+)$/.exec(x.source)![1])).trim());
    expect(lines).toEqual(['listen       80;', 'listen 443 ssl;', 'server {']);
  });
});

describe('no false positives', () => {
  it('the clean IPv6-only set (add-ons, versions, OIDs, IPv4 text in comments and documentation) audits clean', async () => {
    const dir = join(AUDIT_FIXTURES, 'clean');
    const r = await auditJson(['--fail-on', 'warning', dir]);
    expect(r.report.findings).toEqual([]);
    expect(r.report.summary.objects).toBeGreaterThanOrEqual(20);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('a copy of the clean set with one IPv4 edit per file is caught in every file (the clean run can fail)', async () => {
    const dir = join(AUDIT_FIXTURES, 'clean');
    const out = tempDir('clean-broken');
    for (const name of readdirSync(dir)) {
      const text = readFileSync(join(dir, name), 'utf8');
      const broken = text.replace('2001:4860:4860::8888', '8.8.8.8').replace('"[::]:', '"0.0.0.0:').replace('cidr: ::/0', 'cidr: 0.0.0.0/0');
      expect(broken, name).not.toBe(text);
      writeFileSync(join(out, name), broken);
    }
    const r = await auditJson([out]);
    const files = new Set(r.report.findings.map((f) => f.source.split(':')[0].split('/').pop()));
    expect([...files].sort()).toEqual(readdirSync(dir).sort());
  });

  it('flat6 render --stack metal audits clean, KubeletConfiguration and KubeProxyConfiguration included', async () => {
    const out = await renderStack('metal');
    const r = await auditJson(['--fail-on', 'warning', out]);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(0);
    // every Kubernetes object in the rendered tree was audited (add-ons under cluster/ included, when rendered)
    let objects = 0;
    const kinds = new Set<string>();
    for (const [p, f] of readTree(out)) {
      if (!/\.(ya?ml|json)$/.test(p)) continue;
      const text = f.content.toString('utf8');
      const docs = p.endsWith('.json') ? [JSON.parse(text) as unknown] : parseAllDocuments(text).map((d) => d.toJS() as unknown);
      for (const d of docs.flatMap((x) => (x && typeof x === 'object' && Array.isArray((x as { items?: unknown }).items) ? (x as { items: unknown[] }).items : [x]))) {
        if (d && typeof d === 'object' && typeof (d as { kind?: unknown }).kind === 'string' && typeof (d as { apiVersion?: unknown }).apiVersion === 'string') {
          objects++;
          kinds.add((d as { kind: string }).kind);
        }
      }
    }
    expect(r.report.summary.objects).toBe(objects);
    expect([...kinds]).toEqual(expect.arrayContaining(['InitConfiguration', 'ClusterConfiguration', 'JoinConfiguration', 'KubeletConfiguration', 'KubeProxyConfiguration']));
    // control: the same tree with kube-proxy told to serve health checks on IPv4 is caught
    const broken = tempDir('render-broken');
    const kubeadm = join(out, 'hosts', 'cp1', 'etc', 'flat6', 'kubeadm.yaml');
    const text = readFileSync(kubeadm, 'utf8');
    expect(text).toContain('healthzBindAddress: "[::]:10256"');
    writeFileSync(join(broken, 'kubeadm.yaml'), text.replace('healthzBindAddress: "[::]:10256"', 'healthzBindAddress: "0.0.0.0:10256"').replace('clusterCIDR: "', 'clusterCIDR: "10.244.0.0/16,'));
    const want = ['KubeProxyConfiguration COMPONENT_IPV4_AUX_BIND healthzBindAddress', 'KubeProxyConfiguration COMPONENT_IPV4_CIDR clusterCIDR'];
    // and, when the add-ons are rendered, their CoreDNS told to forward to an IPv4 resolver
    const coredns = join(out, 'cluster', 'addons', '10-coredns.yaml');
    if (existsSync(coredns)) {
      const c = readFileSync(coredns, 'utf8');
      expect(c).toContain('forward . [2001:4860:4860::8888]:53 [2606:4700:4700::1111]:53');
      writeFileSync(join(broken, 'coredns.yaml'), c.replace('forward . [2001:4860:4860::8888]:53 [2606:4700:4700::1111]:53', 'forward . 8.8.8.8:53 1.1.1.1:53'));
      want.unshift('ConfigMap COREDNS_FORWARD_IPV4 data.Corefile');
    }
    const b = await auditJson([broken]);
    expect(b.report.findings.map((f) => `${f.kind} ${f.code} ${f.path}`).sort()).toEqual(want.sort());
  });
});

describe('acceptance: a mixed dump', () => {
  const mixed = join(AUDIT_FIXTURES, 'acceptance', 'mixed.yaml');
  const clean = join(AUDIT_FIXTURES, 'acceptance', 'clean.yaml');

  it('reports each offending object by kind/namespace/name and none of the clean ones, exit 1', async () => {
    const objects = yamlObjects(mixed);
    const offending = objects.filter((o) => (o['metadata'] as { annotations?: Record<string, string> }).annotations?.['audit.flat6.test/expect']);
    const cleanOnes = objects.filter((o) => !offending.includes(o));
    expect(offending.length).toBeGreaterThanOrEqual(6);
    expect(cleanOnes.length).toBeGreaterThanOrEqual(6);
    for (const form of [mixed, jsonForm(mixed)]) {
      const r = await auditJson([form]);
      expect(r.code).toBe(1);
      const who = new Set(r.report.findings.map((f) => `${f.kind}/${f.namespace}/${f.name}`));
      const id = (o: Record<string, unknown>): string => {
        const m = o['metadata'] as { name: string; namespace?: string };
        return `${String(o['kind'])}/${m.namespace ?? null}/${m.name}`;
      };
      expect([...who].sort()).toEqual(offending.map(id).sort());
      for (const o of cleanOnes) expect(who.has(id(o))).toBe(false);
      expect(sorted(r.report.findings.map(asExpected))).toEqual(sorted(expectations(objects)));
      // what the issue names, by code
      expect(new Set(r.report.findings.map((f) => f.code))).toEqual(
        new Set(['IPV4_WILDCARD_BIND', 'SERVICE_IPV4_FAMILY', 'SERVICE_REQUIRE_DUAL_STACK', 'SERVICE_PREFER_DUAL_STACK', 'NETWORK_POLICY_IPV4_CIDR', 'ENDPOINT_SLICE_IPV4', 'NGINX_LISTEN_IPV4_ONLY', 'COREDNS_FORWARD_IPV4']),
      );
    }
  });

  it('the clean objects alone exit 0', async () => {
    const r = await auditJson([clean]);
    expect(r.report.findings).toEqual([]);
    expect(r.code).toBe(0);
    // and they are the clean objects of the mixed dump, one for one
    const cleanOfMixed = yamlObjects(mixed).filter((o) => !(o['metadata'] as { annotations?: Record<string, string> }).annotations?.['audit.flat6.test/expect']);
    expect(yamlObjects(clean)).toEqual(cleanOfMixed);
  });
});

describe('reports and exit statuses', () => {
  const bad = join(CODES_DIR, 'SERVICE_REQUIRE_DUAL_STACK.bad.yaml');
  const warn = join(CODES_DIR, 'SERVICE_PREFER_DUAL_STACK.bad.yaml');

  it('--format json has exactly the fields of the issue', async () => {
    const r = await auditJson([bad, warn]);
    expect(Object.keys(r.report)).toEqual(['findings', 'summary']);
    expect(Object.keys(r.report.summary)).toEqual(['objects', 'blockers', 'warnings']);
    expect(r.report.summary).toEqual({ objects: 2, blockers: 2, warnings: 1 });
    for (const f of r.report.findings) expect(Object.keys(f)).toEqual(['kind', 'namespace', 'name', 'path', 'severity', 'code', 'message', 'fix', 'source']);
  });

  it('the human report groups blockers before warnings, colour only when asked or on a terminal', async () => {
    const plain = await flat6(['audit', warn, bad]);
    expect(plain.code).toBe(1);
    const b = plain.stdout.indexOf('BLOCKERS');
    const w = plain.stdout.indexOf('WARNINGS');
    expect(b).toBeGreaterThanOrEqual(0);
    expect(w).toBeGreaterThan(b);
    expect(plain.stdout).not.toContain('\x1b[');
    expect(plain.stdout).toMatch(/2 object\(s\) audited: 2 blocker\(s\), 1 warning\(s\)/);
    expect(plain.stdout).toContain('SERVICE_REQUIRE_DUAL_STACK');
    expect(plain.stdout).toContain('fix: set ipFamilyPolicy: SingleStack');
    expect((await flat6(['audit', bad], { isTTY: true })).stdout).toContain('\x1b[31m');
    expect((await flat6(['audit', bad], { isTTY: true, env: { NO_COLOR: '1' } })).stdout).not.toContain('\x1b[');
    expect((await flat6(['audit', '--color', 'always', bad])).stdout).toContain('\x1b[');
    expect((await flat6(['audit', '--color', 'never', bad], { isTTY: true })).stdout).not.toContain('\x1b[');
  });

  it('exit 0 with warnings only, 1 with --fail-on warning', async () => {
    expect((await flat6(['audit', warn])).code).toBe(0);
    expect((await flat6(['audit', '--fail-on', 'warning', warn])).code).toBe(1);
  });

  it('usage errors exit 2', async () => {
    for (const argv of [['audit'], ['audit', '--format', 'xml', bad], ['audit', '--fail-on', 'info', bad], ['audit', '--namespace', 'x', bad], ['audit', '--color', 'sometimes', bad], ['audit', '-', '-']]) {
      const r = await flat6(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/flat6 audit: /);
    }
    expect((await flat6(['audit', '--help'])).stdout).toContain('Exit status: 0 no blockers');
  });

  describe('SARIF', () => {
    const schema = JSON.parse(readFileSync(join(AUDIT_FIXTURES, 'sarif-schema-2.1.0.json'), 'utf8').replace(/^\uFEFF/, '')) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // ajv-formats is CommonJS: its plugin is the default export's default
    (formats as unknown as { default: (a: Ajv2020) => void }).default(ajv);
    const validate = ajv.compile(schema);

    /** What the OASIS errata01 schema requires beyond the vendored copy (see test/fixtures/audit/README.md). */
    function oasisExtras(log: { runs: Array<{ results: Array<{ locations: Array<{ physicalLocation?: { region?: Record<string, unknown> } }> }> }> }): string[] {
      const problems: string[] = [];
      for (const run of log.runs) {
        for (const r of run.results) {
          for (const l of r.locations) {
            const region = l.physicalLocation?.region;
            if (region && !('startLine' in region) && !('charOffset' in region) && !('byteOffset' in region)) problems.push('region without startLine, charOffset or byteOffset');
          }
        }
      }
      return problems;
    }

    it('validates against the SARIF 2.1.0 schema, with every code as a rule and every finding located', async () => {
      const dir = tempDir('sarif');
      mkdirSync(join(dir, 'manifests dir'));
      for (const c of CODE_LIST) copyFileSync(join(CODES_DIR, `${c}.bad.yaml`), join(dir, 'manifests dir', `${c}.yaml`));
      const j = await auditJson(['manifests dir'], { cwd: dir });
      const r = await flat6(['audit', '--format', 'sarif', 'manifests dir'], { cwd: dir });
      expect(r.code).toBe(1);
      const log = JSON.parse(r.stdout);
      const ok = validate(log);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
      expect(oasisExtras(log)).toEqual([]);
      const run = log.runs[0];
      expect(run.tool.driver.rules.map((x: { id: string }) => x.id)).toEqual(CODE_LIST);
      expect(run.results).toHaveLength(j.report.findings.length);
      run.results.forEach((res: { ruleId: string; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string; uriBaseId: string }; region: { startLine: number } } }> }, i: number) => {
        const f = j.report.findings[i];
        expect(res.ruleId).toBe(f.code);
        expect(res.level).toBe(f.severity === 'blocker' ? 'error' : 'warning');
        const loc = res.locations[0].physicalLocation;
        expect(loc.artifactLocation.uriBaseId).toBe('%SRCROOT%');
        expect(decodeURIComponent(loc.artifactLocation.uri)).toBe(f.source.replace(/:\d+$/, ''));
        expect(loc.region.startLine).toBe(Number(/:(\d+)$/.exec(f.source)![1]));
      });
      expect(run.tool.driver.rules.every((x: { defaultConfiguration: { level: string }; id: keyof typeof CODES }) => x.defaultConfiguration.level === (CODES[x.id].severity === 'blocker' ? 'error' : 'warning'))).toBe(true);
    });

    it('a clean run and a run with unreadable input also validate', async () => {
      const dir = tempDir('sarif2');
      writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n');
      const clean = await flat6(['audit', '--format', 'sarif', join(CODES_DIR, 'SERVICE_IPV4_FAMILY.fixed.yaml')]);
      expect(clean.code).toBe(0);
      expect(validate(JSON.parse(clean.stdout))).toBe(true);
      const broken = await flat6(['audit', '--format', 'sarif', 'broken.yaml'], { cwd: dir });
      expect(broken.code).toBe(2);
      const log = JSON.parse(broken.stdout);
      expect(validate(log)).toBe(true);
      expect(log.runs[0].invocations[0].executionSuccessful).toBe(false);
      expect(log.runs[0].invocations[0].toolExecutionNotifications[0].locations[0].physicalLocation.region.startLine).toBe(3);
    });

    it('the schema check can fail: a result without a message is refused', () => {
      expect(validate({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ ruleId: 'X' }] }] })).toBe(false);
    });
  });
});

describe('controllers and what they own', () => {
  const chain = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, uid: d-1}
spec:
  template:
    spec:
      containers: [{name: api, image: api:1, args: ["--bind-address=0.0.0.0"]}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-6d4cf56db6
  namespace: shop
  uid: rs-1
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: api, uid: d-1, controller: true}]
spec:
  template:
    spec:
      containers: [{name: api, image: api:1, args: ["--bind-address=0.0.0.0"]}]
---
apiVersion: v1
kind: Pod
metadata:
  name: api-6d4cf56db6-x2x9z
  namespace: shop
  uid: p-1
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: api-6d4cf56db6, uid: rs-1, controller: true}]
spec:
  containers:
    - {name: api, image: api:1, args: ["--bind-address=0.0.0.0"]}
    - {name: sidecar, image: proxy:1, args: ["--listen=0.0.0.0:15001"]}
`;

  it('a finding the controller already has is reported once, on the controller; what only the Pod has stays', async () => {
    const r = await auditJson(['-'], { stdin: chain });
    expect(r.report.summary.objects).toBe(3);
    expect(r.report.findings.map((f) => `${f.kind} ${f.path}`)).toEqual(['Deployment spec.template.spec.containers[0].args[0]', 'Pod spec.containers[1].args[0]']);
  });

  it('without the controller in the input, the owned objects report it themselves', async () => {
    const r = await auditJson(['-'], { stdin: chain.split('---\n').slice(2).join('---\n') });
    expect(r.report.findings.map((f) => `${f.kind} ${f.path}`)).toEqual(['Pod spec.containers[0].args[0]', 'Pod spec.containers[1].args[0]']);
  });
});

it('docs/audit.md explains every code with a before and an after', () => {
  const doc = readFileSync(join(process.cwd(), 'docs', 'audit.md'), 'utf8');
  const sections = [...doc.matchAll(/^### `([A-Z0-9_]+)`/gm)].map((m) => m[1]);
  expect(sections).toEqual(CODE_LIST);
  for (const code of CODE_LIST) {
    const body = doc.split(`### \`${code}\``)[1].split(/^### /m)[0];
    expect(body, code).toMatch(/Before/);
    expect(body, code).toMatch(/After/);
    expect(body, code).toContain(CODES[code].severity);
  }
  expect(existsSync(join(AUDIT_FIXTURES, 'README.md'))).toBe(true);
});
