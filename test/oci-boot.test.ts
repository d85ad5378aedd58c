/**
 * The OCI node's boot script run for real (python3): against a fake OCI
 * instance metadata service on loopback and a fake OCI CLI (a worker assigns
 * its own /80; a control plane keeps its pinned address and /80), its NAT64
 * wait and its wiring into the shared boot library; and the pull-request
 * preview workflow's OCI steps run with bash.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadOciStack } from '../src/cloud/oci/config.js';
import { vcnLayout } from '../src/cloud/oci/layout.js';
import { ociClusterPlan, ociControlPlaneNode, ociWorkerNode } from '../src/cloud/oci/plan.js';
import { buildOciUserData, type OciUserData } from '../src/cloud/oci/userdata.js';
import { validateKubeadmFile } from '../src/kubeschema/schema.js';
import { TemplateSet } from '../src/render/templates.js';
import { parseStack } from '../src/spec/load.js';
import { expectNoStandIns, kubeadmDocs, runPrepare, stageNode, tempDir } from './cloud-node.js';

const BOOT = '/usr/local/sbin/flat6-oci-boot';
const BOOT_CONFIG = '/etc/flat6/oci-boot.json';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAB_FILE = join(ROOT, 'stacks', 'Pulumi.oci-lab.yaml');
/** Stands for the /56 Oracle allocates (documentation range). */
const VCN = '2001:db8:b100::/56';
const SECRETS = { bootstrapToken: 'abcdef.0123456789abcdef', certificateKey: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', caCertHashes: [] as string[] };



describe('boot script', () => {
  const s = loadOciStack(parseStack(LAB_FILE, readFileSync(LAB_FILE, 'utf8')));
  const l = vcnLayout(VCN, { availabilityDomains: s.oci.availabilityDomains, faultDomains: s.oci.faultDomains, ipv4Cidr: s.oci.ipv4Cidr, controlPlaneCount: 3 });
  const ctx = { plan: ociClusterPlan(s.plan, l), templates: new TemplateSet(), secrets: SECRETS };
  const built = new Map<string, OciUserData>([
    ['cp1', buildOciUserData(ctx, l, ociControlPlaneNode(s.plan, l, 1), { region: 'us-ashburn-1' })],
    ['worker', buildOciUserData(ctx, l, ociWorkerNode(l, 'general'), { region: 'us-ashburn-1' })],
  ]);

  describe('boot script (python3) against a fake OCI metadata service and a fake OCI CLI', () => {
    const MAC = '02:00:17:00:53:01';
    async function fakeImds(address: string): Promise<{ server: Server; port: number; unauthorized: number }> {
      const state = { unauthorized: 0 };
      const server = createServer((req, res) => {
        if (req.headers['authorization'] !== 'Bearer Oracle') {
          state.unauthorized++;
          return void res.writeHead(401).end();
        }
        if (req.url === '/opc/v2/instance/') return void res.writeHead(200).end(JSON.stringify({ id: 'ocid1.instance.oc1.iad.node', hostname: 'inst-abcde-workers-general', region: 'iad' }));
        if (req.url === '/opc/v2/vnics/') return void res.writeHead(200).end(JSON.stringify([{ vnicId: 'ocid1.vnic.oc1.iad.node', macAddr: MAC.toUpperCase(), privateIp: '10.0.1.7', ipv6Addresses: [address], ipv6SubnetCidrBlock: '2001:db8:b100::/64' }]));
        res.writeHead(404).end();
      });
      await new Promise<void>((ok) => server.listen(0, '::1', ok));
      return Object.assign(state, { server, port: (server.address() as { port: number }).port });
    }

    /** A fake `oci` that logs its arguments; `ipv6 list` answers `listed`, `ipv6 create` answers `created`. */
    function fakeCli(listed: object[], created: object): { cmd: string; calls: () => string[] } {
      const dir = tempDir('cli');
      const bin = join(dir, 'oci');
      writeFileSync(join(dir, 'listed.json'), JSON.stringify(listed.length ? { data: listed } : ''));
      writeFileSync(join(dir, 'created.json'), JSON.stringify({ data: created }));
      writeFileSync(
        bin,
        `#!/usr/bin/env python3\nimport json, sys\nopen(${JSON.stringify(join(dir, 'calls'))}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\nname = 'listed.json' if 'list' in sys.argv else 'created.json'\nv = json.load(open(${JSON.stringify(dir)} + '/' + name))\nprint(v if isinstance(v, str) else json.dumps(v))\n`,
      );
      chmodSync(bin, 0o755);
      return { cmd: bin, calls: () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') };
    }



    it('a worker gives its VNIC a /80 through the OCI CLI (instance principal), then fills in host name, address, /80 and uplink', async () => {
      const imds = await fakeImds('2001:db8:b100::9a4e:1b2c:3d4e:5f60');
      const cli = fakeCli([], { 'ip-address': '2001:db8:b100:0:7::', 'cidr-prefix-length': 80, 'lifecycle-state': 'PROVISIONING' });
      try {
        const staged = stageNode(built.get('worker')!.files, BOOT_CONFIG, 'ens3', MAC);
        const { root } = staged;
        const r = await runPrepare(BOOT, staged, imds.port, { FLAT6_OCI_CLI: cli.cmd });
        expect(r.code, r.stderr + r.stdout).toBe(0);
        expect(imds.unauthorized).toBe(0);
        expect(cli.calls()).toEqual([
          '--auth instance_principal --region us-ashburn-1 network ipv6 list --vnic-id ocid1.vnic.oc1.iad.node --all',
          '--auth instance_principal --region us-ashburn-1 network ipv6 create --vnic-id ocid1.vnic.oc1.iad.node --cidr-prefix-length 80 --display-name flat6-pods',
        ]);
        const cni = readFileSync(join(root, 'etc/cni/net.d/10-flat6.conflist'), 'utf8');
        expect(cni).toContain('2001:db8:b100:0:7::/80');
        const docs = kubeadmDocs(readFileSync(join(root, 'etc/flat6/kubeadm.yaml'), 'utf8'));
        expect(validateKubeadmFile(docs)).toEqual([]);
        const jc = docs.find((d) => d['kind'] === 'JoinConfiguration')!;
        expect(jc['nodeRegistration']['name']).toBe('inst-abcde-workers-general');
        // RFC 5952: a single zero group is not compressed.
        expect(jc['nodeRegistration']['kubeletExtraArgs']).toContainEqual({ name: 'node-ip', value: '2001:db8:b100:0:9a4e:1b2c:3d4e:5f60' });
        const pods = parse(readFileSync(join(root, 'etc/netplan/61-flat6-pods.yaml'), 'utf8'));
        expect(JSON.stringify(pods)).toContain('2001:db8:b100:0:7::/80');
        expect(JSON.stringify(pods)).toContain('ens3');
        expect(statSync(join(root, 'etc/flat6/kubeadm.yaml')).mode & 0o777).toBe(0o600);
        // Written by the shared library (the AWS boot script), under its name.
        expect(readFileSync(join(root, 'etc/sysctl.d/99-zz-flat6-aws.conf'), 'utf8')).toContain('net.ipv6.conf.ens3.accept_ra = 2');
        expectNoStandIns(root, built.get('worker')!.bootConfig.files);
      } finally {
        imds.server.close();
      }
    });

    it('a worker whose earlier attempt already made its /80 reuses it', async () => {
      const imds = await fakeImds('2001:db8:b100::9a4e:1b2c:3d4e:5f61');
      const cli = fakeCli([{ 'ip-address': '2001:db8:b100::9a4e:1b2c:3d4e:5f61', 'cidr-prefix-length': 128 }, { 'ip-address': '2001:db8:b100:0:9::', 'cidr-prefix-length': 80, 'lifecycle-state': 'AVAILABLE' }], {});
      try {
        const staged = stageNode(built.get('worker')!.files, BOOT_CONFIG, 'ens3', MAC);
        const { root } = staged;
        const r = await runPrepare(BOOT, staged, imds.port, { FLAT6_OCI_CLI: cli.cmd });
        expect(r.code, r.stderr).toBe(0);
        expect(cli.calls()).toHaveLength(1);
        expect(readFileSync(join(root, 'etc/cni/net.d/10-flat6.conflist'), 'utf8')).toContain('2001:db8:b100:0:9::/80');
      } finally {
        imds.server.close();
      }
    });

    it('a control plane keeps its pinned address and /80 (no CLI), and refuses to boot without its address', async () => {
      const good = await fakeImds('2001:db8:b100::11');
      try {
        const staged = stageNode(built.get('cp1')!.files, BOOT_CONFIG, 'ens3', MAC);
        const { root } = staged;
        const r = await runPrepare(BOOT, staged, good.port);
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ address: '2001:db8:b100::11', prefix: '2001:db8:b100:0:2::/80', uplink: 'ens3' });
        const jc = kubeadmDocs(readFileSync(join(root, 'etc/flat6/kubeadm.yaml'), 'utf8')).find((d) => d['kind'] === 'JoinConfiguration')!;
        expect(jc['controlPlane']['localAPIEndpoint']['advertiseAddress']).toBe('2001:db8:b100::11');
      } finally {
        good.server.close();
      }
      const bad = await fakeImds('2001:db8:b100::99');
      try {
        const r = await runPrepare(BOOT, stageNode(built.get('cp1')!.files, BOOT_CONFIG, 'ens3', MAC), bad.port);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('should hold 2001:db8:b100::11');
      } finally {
        bad.server.close();
      }
    });
  });
});

describe('pull-request previews cover OCI stacks', () => {
  const wf = parse(readFileSync(join(ROOT, '.github', 'workflows', 'preview.yml'), 'utf8'));
  const steps = wf.jobs.preview.steps as Array<Record<string, any>>;
  const stepNamed = (name: string): Record<string, any> => steps.find((s) => s['name'] === name)!;

  it('the pick step lists stacks with flat6:oci as well as flat6:aws, and no bare-metal stack', () => {
    const pick = (wf.jobs.stacks.steps as Array<Record<string, any>>).find((s) => s['id'] === 'pick')!['run'] as string;
    const repo = tempDir('preview');
    const git = (...args: string[]): string => {
      const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: repo, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const write = (file: string, text: string): void => {
      mkdirSync(dirname(join(repo, file)), { recursive: true });
      writeFileSync(join(repo, file), text);
    };
    git('init', '-q');
    write('stacks/Pulumi.aws-a.yaml', 'config:\n  flat6:aws:\n    region: us-east-2\n');
    write('stacks/Pulumi.oci-a.yaml', 'config:\n  flat6:oci:\n    region: us-ashburn-1\n');
    write('stacks/Pulumi.metal.yaml', 'config:\n  flat6:cluster:\n    name: m\n');
    git('add', '-A');
    git('commit', '-qm', 'base');
    const base = git('rev-parse', 'HEAD');
    const run = (): string => {
      const head = git('rev-parse', 'HEAD');
      const out = join(repo, 'github-output');
      rmSync(out, { force: true });
      const r = spawnSync('bash', ['-c', pick], { cwd: repo, env: { PATH: process.env['PATH'], BASE: base, HEAD: head, GITHUB_OUTPUT: out }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(out, 'utf8');
    };
    write('stacks/Pulumi.oci-a.yaml', 'config:\n  flat6:oci:\n    region: eu-frankfurt-1\n');
    write('stacks/Pulumi.metal.yaml', 'config:\n  flat6:cluster:\n    name: n\n');
    git('commit', '-qam', 'an OCI stack and a bare-metal one change');
    expect(run()).toBe('stacks=["oci-a"]\n');
    write('src/x.ts', 'export {};\n');
    git('add', '-A');
    git('commit', '-qm', 'the program changes');
    expect(run()).toBe('stacks=["aws-a","oci-a"]\n');
  });

  it('an OCI stack gets OCI credentials (an API key in ~/.oci/config), not AWS ones; the cloud step tells them apart', () => {
    const cloudStep = stepNamed("the stack's cloud");
    const dir = tempDir('cloud');
    mkdirSync(join(dir, 'stacks'));
    writeFileSync(join(dir, 'stacks', 'Pulumi.o.yaml'), 'config:\n  flat6:oci:\n    region: us-ashburn-1\n');
    writeFileSync(join(dir, 'stacks', 'Pulumi.a.yml'), 'config:\n  flat6:aws:\n    region: us-east-2\n');
    const cloudOf = (stack: string): string => {
      const out = join(dir, `out-${stack}`);
      const r = spawnSync('bash', ['-eo', 'pipefail', '-c', cloudStep['run']], { cwd: dir, env: { PATH: process.env['PATH'], HOME: dir, STACK: stack, GITHUB_OUTPUT: out }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(out, 'utf8');
    };
    expect(cloudOf('o')).toBe('cloud=oci\n');
    expect(cloudOf('a')).toBe('cloud=aws\n');
    for (const name of ['AWS credentials (OIDC role)', 'AWS credentials (access keys)']) expect(stepNamed(name)['if']).toContain("steps.cloud.outputs.cloud == 'aws'");
    const oci = stepNamed('OCI credentials (API signing key)');
    expect(oci['if']).toBe("steps.cloud.outputs.cloud == 'oci'");
    expect(steps.indexOf(oci)).toBeLessThan(steps.findIndex((s) => String(s['uses']).startsWith('pulumi/actions@')));
    const home = tempDir('home');
    const secrets = { OCI_CLI_USER: 'ocid1.user.oc1..u', OCI_CLI_TENANCY: 'ocid1.tenancy.oc1..t', OCI_CLI_FINGERPRINT: 'aa:bb', OCI_CLI_KEY_CONTENT: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----', OCI_CLI_REGION: 'us-ashburn-1' };
    const ok = spawnSync('bash', ['-eo', 'pipefail', '-c', oci['run']], { env: { PATH: process.env['PATH'], HOME: home, ...secrets }, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(readFileSync(join(home, '.oci', 'config'), 'utf8')).toBe(`[DEFAULT]\nuser=ocid1.user.oc1..u\nfingerprint=aa:bb\ntenancy=ocid1.tenancy.oc1..t\nregion=us-ashburn-1\nkey_file=${home}/.oci/key.pem\n`);
    expect(statSync(join(home, '.oci', 'key.pem')).mode & 0o777).toBe(0o600);
    const missing = spawnSync('bash', ['-eo', 'pipefail', '-c', oci['run']], { env: { PATH: process.env['PATH'], HOME: tempDir('home2'), ...secrets, OCI_CLI_FINGERPRINT: '' }, encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain('::error::the repository secret OCI_CLI_FINGERPRINT is empty');
  });
});

describe('OCI boot script steps (python3, fakes, no sleeping)', () => {
  const SCRIPT = join(ROOT, 'templates', 'oci', 'flat6-oci-boot.py');
  const LIBRARY = join(ROOT, 'templates', 'aws', 'flat6-aws-boot.py');
  /** Run python with the OCI script loaded as module `oci` (its library as `oci.lib`), waits made instant. */
  function py(body: string): { status: number | null; stdout: string; stderr: string } {
    const prelude = [
      'import importlib.util, socket, sys',
      `spec = importlib.util.spec_from_file_location("oci", ${JSON.stringify(SCRIPT)})`,
      'oci = importlib.util.module_from_spec(spec); spec.loader.exec_module(oci)',
      'oci.lib.sleep = lambda s: None',
    ].join('\n');
    return spawnSync('python3', ['-c', `${prelude}\n${body}`], { env: { PATH: process.env['PATH'], HOME: tempDir('home'), FLAT6_BOOT_LIBRARY: LIBRARY }, encoding: 'utf8' });
  }

  it('waits until DNS64 answers ipv4only.arpa inside the NAT64 prefix, logging each attempt; gives up after its attempts', () => {
    const ok = py(
      [
        'answers = [socket.gaierror(-2, "Name or service not known"), [(10, 1, 6, "", ("2001:db8:ffff::c000:aa", 443, 0, 0))], [(10, 1, 6, "", ("2001:db8:b100:80:0:64:c000:aa", 443, 0, 0))]]',
        'def resolver(*a):',
        '    x = answers.pop(0)',
        '    if isinstance(x, Exception): raise x',
        '    return x',
        'oci.lib.resolver = resolver',
        'print(oci.wait_for_nat64("2001:db8:b100:80:0:64::/96"))',
      ].join('\n'),
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('attempt 1 of 90 failed: StepError: no AAAA for ipv4only.arpa');
    expect(ok.stdout).toContain('attempt 2 of 90 failed: StepError: ipv4only.arpa resolves to 2001:db8:ffff::c000:aa, not inside 2001:db8:b100:80:0:64::/96');
    expect(ok.stdout).toContain("succeeded at attempt 3 of 90");
    expect(ok.stdout).toContain("['2001:db8:b100:80:0:64:c000:aa']");
    const never = py(['oci.lib.resolver = lambda *a: []', 'try:', '    oci.wait_for_nat64("2001:db8:b100:80:0:64::/96", (3, 0, 0))', 'except oci.BootFailure as e:', '    print("FAILED", e)'].join('\n'));
    expect(never.stdout).toContain('FAILED DNS64 and NAT64 ready (ipv4only.arpa in 2001:db8:b100:80:0:64::/96) failed 3 time(s), giving up');
  });

  it('the library runs with OCI\'s pieces: its prepare, boot, metadata client and failure banner are this script\'s', () => {
    const r = py(
      [
        'lib = oci.lib',
        'print(lib.boot is oci.boot, lib.report_failure is oci.report_failure, lib.run is oci.run, lib.LOG_PREFIX)',
        'print(lib.run(["flat6-no-such-command", "x"], check=False).returncode)',
        'oci.report_failure("kubeadm join failed 90 time(s)", state_dir=sys.argv[0] if False else __import__("tempfile").mkdtemp())',
      ].join('\n'),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('True True True flat6-oci-boot: ');
    expect(r.stdout).toContain('skipped, flat6-no-such-command is not installed');
    expect(r.stderr).toContain('flat6-oci-boot: BOOT FAILED: kubeadm join failed 90 time(s)');
    expect(r.stderr).toContain('run again: python3 /usr/local/sbin/flat6-oci-boot boot --config /etc/flat6/oci-boot.json');
  });
});
