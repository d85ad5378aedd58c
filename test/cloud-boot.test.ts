/**
 * The AWS node's boot script run for real (python3): against a fake instance
 * metadata service on loopback, and its retries against fake failing
 * commands and a fake resolver; and the project's wiring (Pulumi.yaml, the
 * pull-request preview workflow run with bash and git).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { apiCertSans, awsClusterPlan, awsControlPlaneNode, awsWorkerNode } from '../src/cloud/aws/plan.js';
import { vpcLayout } from '../src/cloud/aws/layout.js';
import { SENTINEL_BLOCK } from '../src/cloud/shared/sentinels.js';
import { buildUserData, type UserData } from '../src/cloud/aws/userdata.js';
import { formatPrefix } from '../src/core/ip.js';
import { validateKubeadmFile } from '../src/kubeschema/schema.js';
import type { RenderContext } from '../src/render/context.js';
import { TemplateSet } from '../src/render/templates.js';
import { AWS_NLB_DNS as NLB_DNS, AWS_SECRETS as SECRETS, AWS_VPC as VPC, awsLab as lab, expectNoStandIns, kubeadmDocs, runPrepare, stageNode, tempDir } from './cloud-node.js';

const BOOT = '/usr/local/sbin/flat6-aws-boot';
const BOOT_CONFIG = '/etc/flat6/aws-boot.json';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BOOT_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'templates', 'aws', 'flat6-aws-boot.py');


describe('boot script (python3) against a fake metadata service on loopback', () => {
  const s = lab();
  const l = vpcLayout(VPC, { region: s.aws.region, zones: s.aws.availabilityZones, ipv4Cidr: s.aws.ipv4Cidr, controlPlaneCount: s.plan.controlPlanes.length });
  const ctx: RenderContext = { plan: awsClusterPlan(s.plan, l, NLB_DNS), templates: new TemplateSet(), secrets: SECRETS };
  const certSans = apiCertSans(l, NLB_DNS);
  const built = new Map<string, UserData>([
    ['cp0', buildUserData(ctx, awsControlPlaneNode(s.plan, l, 0), { certSans })],
    ['worker', buildUserData(ctx, awsWorkerNode(l, 'general'), { certSans })],
  ]);
  const apiEndpoint = `${NLB_DNS}:${s.plan.apiPort}`;

  const MAC = '02:00:5e:00:53:01';
  interface Fake {
    server: Server;
    port: number;
    puts: number;
    unauthorized: number;
  }
  async function fakeImds(meta: Record<string, string>): Promise<Fake> {
    const state = { puts: 0, unauthorized: 0 };
    const server = createServer((req, res) => {
      if (req.method === 'PUT' && req.url === '/latest/api/token') {
        state.puts++;
        if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
        return void res.writeHead(200).end('test-token');
      }
      if (req.headers['x-aws-ec2-metadata-token'] !== 'test-token') {
        state.unauthorized++;
        return void res.writeHead(401).end();
      }
      const key = (req.url ?? '').replace('/latest/meta-data/', '');
      if (req.method === 'GET' && key in meta) return void res.writeHead(200).end(meta[key]);
      res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '::1', ok));
    const port = (server.address() as { port: number }).port;
    return Object.assign(state, { server, port }) as Fake;
  }


  const meta = (address: string, prefix: string): Record<string, string> => ({
    mac: MAC,
    [`network/interfaces/macs/${MAC}/ipv6s`]: address,
    [`network/interfaces/macs/${MAC}/ipv6-prefix`]: prefix,
    'local-hostname': 'i-0123456789abcdef0.us-east-2.compute.internal',
  });

  it('a worker fills in its host name, address, /80 and uplink, over IMDSv2', async () => {
    // A /80 whose canonical form compresses differently from the stand-in's.
    const imds = await fakeImds(meta('2001:db8:a100:2:9a4e:1b2c:3d4e:5f60', '2001:db8:0:0:1::/80'));
    try {
      const staged = stageNode(built.get('worker')!.files, BOOT_CONFIG, 'ens5', MAC);
      const { root } = staged;
      const r = await runPrepare(BOOT, staged, imds.port);
      expect(r.code, r.stderr).toBe(0);
      expect(imds.puts).toBeGreaterThanOrEqual(1);
      expect(imds.unauthorized).toBe(0);
      const cni = JSON.parse(readFileSync(join(root, 'etc/cni/net.d/10-flat6.conflist'), 'utf8'));
      const range = cni.plugins.find((x: { type: string }) => x.type === 'ptp').ipam.ranges[0][0];
      expect(range).toEqual({ subnet: '2001:db8:0:0:1::/80', rangeStart: '2001:db8::1:0:0:2', rangeEnd: '2001:db8::1:ffff:ffff:ffff', gateway: '2001:db8::1:0:0:1' });
      const docs = kubeadmDocs(readFileSync(join(root, 'etc/flat6/kubeadm.yaml'), 'utf8'));
      expect(validateKubeadmFile(docs)).toEqual([]);
      const jc = docs.find((d) => d['kind'] === 'JoinConfiguration')!;
      expect(jc['nodeRegistration']['name']).toBe('i-0123456789abcdef0.us-east-2.compute.internal');
      expect(jc['nodeRegistration']['kubeletExtraArgs']).toContainEqual({ name: 'node-ip', value: '2001:db8:a100:2:9a4e:1b2c:3d4e:5f60' });
      expect(jc['discovery']['bootstrapToken']['apiServerEndpoint']).toBe(apiEndpoint);
      const pods = parse(readFileSync(join(root, 'etc/netplan/61-flat6-pods.yaml'), 'utf8'));
      expect(pods.network.ethernets.ens5.routes).toEqual([{ to: '2001:db8:0:0:1::/80', type: 'unreachable' }]);
      expect(statSync(join(root, 'etc/flat6/kubeadm.yaml')).mode & 0o777).toBe(0o600);
      expect(statSync(join(root, 'etc/netplan/61-flat6-pods.yaml')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(root, 'etc/sysctl.d/99-zz-flat6-aws.conf'), 'utf8')).toContain('net.ipv6.conf.ens5.accept_ra = 2');
      // Nothing of the stand-ins is left in any file the node uses.
      expectNoStandIns(root, built.get('worker')!.bootConfig.files);
      expect(formatPrefix(SENTINEL_BLOCK)).toBe('2001:db8:ffff:fff6::/64');
    } finally {
      imds.server.close();
    }
  });

  it('a control-plane node refuses to boot without its pinned address', async () => {
    const imds = await fakeImds(meta('2001:db8:a100::99', '2001:db8:a100:0:7::/80'));
    try {
      const r = await runPrepare(BOOT, stageNode(built.get('cp0')!.files, BOOT_CONFIG, 'ens5', MAC), imds.port);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('should hold 2001:db8:a100::10');
    } finally {
      imds.server.close();
    }
  });

  it('a control-plane node with its pinned address keeps it as node-ip', async () => {
    const imds = await fakeImds(meta('2001:db8:a100::10', '2001:db8:a100:0:7::/80'));
    try {
      const staged = stageNode(built.get('cp0')!.files, BOOT_CONFIG, 'ens5', MAC);
      const { root } = staged;
      const r = await runPrepare(BOOT, staged, imds.port);
      expect(r.code, r.stderr).toBe(0);
      const docs = kubeadmDocs(readFileSync(join(root, 'etc/flat6/kubeadm.yaml'), 'utf8'));
      const ic = docs.find((d) => d['kind'] === 'InitConfiguration')!;
      expect(ic['localAPIEndpoint']['advertiseAddress']).toBe('2001:db8:a100::10');
      expect(ic['nodeRegistration']['name']).toBe('i-0123456789abcdef0.us-east-2.compute.internal');
    } finally {
      imds.server.close();
    }
  });
});

describe('boot script retries (python3, fake commands, no sleeping)', () => {
  /** Load the boot script as a module, record waits instead of sleeping, run `code`. */
  function py(code: string, fakeBin?: string): { status: number | null; stdout: string; stderr: string } {
    const prelude = [
      'import importlib.util, json, os, socket, subprocess, sys',
      'spec = importlib.util.spec_from_file_location("flat6_aws_boot", sys.argv[1])',
      'boot = importlib.util.module_from_spec(spec)',
      'spec.loader.exec_module(boot)',
      'waits = []',
      'boot.sleep = waits.append',
    ].join('\n');
    const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PATH: fakeBin ? `${fakeBin}:${process.env['PATH']}` : process.env['PATH'] };
    const r = spawnSync('python3', ['-B', '-c', `${prelude}\n${code}`, BOOT_SCRIPT], { env, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** A fake command that fails (exit 100) its first `failures` runs, then succeeds; `kubeadm reset` always succeeds. Calls go to <dir>/calls. */
  function fakeCommand(name: string, failures: number): { bin: string; calls: () => string[] } {
    const dir = tempDir('fake');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const script = [
      '#!/bin/sh',
      `echo "${name} $*" >> "${dir}/calls"`,
      `[ "${name} $1" = "kubeadm reset" ] && exit 0`,
      `n=$(( $(cat "${dir}/count" 2>/dev/null || echo 0) + 1 ))`,
      `echo "$n" > "${dir}/count"`,
      `if [ "$n" -le ${failures} ]; then echo "fake ${name}: failure $n" >&2; exit 100; fi`,
      'exit 0',
      '',
    ].join('\n');
    writeFileSync(join(bin, name), script, { mode: 0o755 });
    return { bin, calls: () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') };
  }

  it('apt-get is retried with logged attempts and growing waits, and waits for the dpkg lock', () => {
    const apt = fakeCommand('apt-get', 2);
    const r = py('boot.apt_get(["update", "-q"], "apt-get update (test)", (5, 10, 15))\nprint("WAITS", json.dumps(waits))', apt.bin);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('flat6-aws-boot: apt-get update (test): attempt 1 of 5\n');
    expect(r.stdout).toContain('apt-get update (test): attempt 1 of 5 failed: `apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 update -q` exited with status 100; next attempt in 10 s');
    expect(r.stdout).toContain('apt-get update (test): attempt 2 of 5 failed: `apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 update -q` exited with status 100; next attempt in 15 s');
    expect(r.stdout).toContain('apt-get update (test): succeeded at attempt 3 of 5');
    expect(r.stdout).toContain('WAITS [10, 15]');
    expect(apt.calls()).toEqual(Array(3).fill('apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 update -q'));
  });

  it('a step that keeps failing stops after N attempts with the last error', () => {
    const apt = fakeCommand('apt-get', 99);
    const r = py(
      ['try:', '    boot.apt_get(["install", "-y", "containerd"], "apt-get install (test)", (3, 10, 60))', 'except boot.BootFailure as e:', '    print("FAILURE", e)', 'print("WAITS", json.dumps(waits))'].join('\n'),
      apt.bin,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(apt.calls()).toHaveLength(3);
    expect(r.stdout).toContain('apt-get install (test): attempt 3 of 3\n');
    expect(r.stdout).not.toContain('attempt 4');
    expect(r.stdout).toContain('FAILURE apt-get install (test) failed 3 time(s), giving up; last error: `apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 install -y containerd` exited with status 100');
    expect(r.stdout).toContain('WAITS [10, 20]');
  });

  it('kubeadm join is retried with a reset between attempts', () => {
    const kubeadm = fakeCommand('kubeadm', 2);
    const r = py('boot.kubeadm("join", "/etc/flat6/kubeadm.yaml", (5, 30, 30))\nprint("WAITS", json.dumps(waits))', kubeadm.bin);
    expect(r.status, r.stderr).toBe(0);
    expect(kubeadm.calls()).toEqual([
      'kubeadm join --config /etc/flat6/kubeadm.yaml',
      'kubeadm reset -f',
      'kubeadm join --config /etc/flat6/kubeadm.yaml',
      'kubeadm reset -f',
      'kubeadm join --config /etc/flat6/kubeadm.yaml',
    ]);
    expect(r.stdout).toContain('kubeadm join: attempt 2 of 5 failed: `kubeadm join --config /etc/flat6/kubeadm.yaml` exited with status 100; next attempt in 30 s');
    expect(r.stdout).toContain('kubeadm join: succeeded at attempt 3 of 5');
    expect(r.stdout).toContain('WAITS [30, 30]');
  });

  it('kubeadm init that keeps failing ends in a BOOT FAILED banner and a marker file', () => {
    const kubeadm = fakeCommand('kubeadm', 99);
    const state = tempDir('state');
    const r = py(
      [
        'try:',
        '    boot.kubeadm("init", "/etc/flat6/kubeadm.yaml", (3, 60, 60))',
        'except boot.BootFailure as e:',
        `    boot.report_failure(str(e), ${JSON.stringify(state)})`,
      ].join('\n'),
      kubeadm.bin,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(kubeadm.calls()).toEqual([
      'kubeadm init --config /etc/flat6/kubeadm.yaml --upload-certs',
      'kubeadm reset -f',
      'kubeadm init --config /etc/flat6/kubeadm.yaml --upload-certs',
      'kubeadm reset -f',
      'kubeadm init --config /etc/flat6/kubeadm.yaml --upload-certs',
    ]);
    const message = 'kubeadm init failed 3 time(s), giving up; last error: `kubeadm init --config /etc/flat6/kubeadm.yaml --upload-certs` exited with status 100';
    expect(r.stderr).toContain(`flat6-aws-boot: BOOT FAILED: ${message}\n`);
    expect(r.stderr).toContain('This node has NOT joined the cluster');
    expect(readFileSync(join(state, 'boot-failed'), 'utf8')).toBe(`${message}\n`);
  });

  it('the boot command turns any failure into the banner, the marker and exit status 1', () => {
    const state = tempDir('state');
    const config = join(tempDir('cfg'), 'aws-boot.json');
    writeFileSync(config, '{}');
    const r = py(
      [
        `boot.STATE_DIR = ${JSON.stringify(state)}`,
        'def failing(*args): boot.fail("instance metadata mac unavailable after 60 attempts: timed out")',
        'boot.boot = failing',
        `sys.argv = ["flat6-aws-boot", "boot", "--config", ${JSON.stringify(config)}]`,
        'boot.main()',
      ].join('\n'),
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('BOOT FAILED: instance metadata mac unavailable after 60 attempts: timed out');
    expect(readFileSync(join(state, 'boot-failed'), 'utf8')).toContain('instance metadata mac unavailable');
  });

  it('the API endpoint name is resolved (AAAA) with retries before kubeadm; a literal needs no lookup', () => {
    const r = py(
      [
        'calls = []',
        'def fake(host, port, family, kind):',
        '    calls.append((host, port, family == socket.AF_INET6))',
        '    if len(calls) < 3: raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")',
        '    return [(socket.AF_INET6, kind, 6, "", ("2001:db8:a100:81::6443", port, 0, 0)), (socket.AF_INET6, kind, 6, "", ("2001:db8:a100:80::6443", port, 0, 0))]',
        'boot.resolver = fake',
        `print("GOT", json.dumps(boot.wait_for_endpoint({"host": ${JSON.stringify(NLB_DNS)}, "port": 6443}, (4, 10, 10))))`,
        'print("CALLS", len(calls), all(c[2] for c in calls))',
        'print("LITERAL", json.dumps(boot.wait_for_endpoint({"host": "2001:db8:a100:80::6443", "port": 6443})), len(calls))',
        'print("WAITS", json.dumps(waits))',
        'def never(*a): raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")',
        'boot.resolver = never',
        'try:',
        `    boot.wait_for_endpoint({"host": ${JSON.stringify(NLB_DNS)}, "port": 6443}, (2, 10, 10))`,
        'except boot.BootFailure as e:',
        '    print("FAILURE", e)',
      ].join('\n'),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`resolve the API endpoint ${NLB_DNS} (AAAA): attempt 1 of 4 failed: StepError: no IPv6 address for ${NLB_DNS}`);
    expect(r.stdout).toContain('GOT ["2001:db8:a100:80::6443", "2001:db8:a100:81::6443"]');
    expect(r.stdout).toContain(`API endpoint ${NLB_DNS}:6443 resolves to 2001:db8:a100:80::6443, 2001:db8:a100:81::6443`);
    expect(r.stdout).toContain('CALLS 3 True');
    expect(r.stdout).toContain('LITERAL ["2001:db8:a100:80::6443"] 3');
    expect(r.stdout).toContain('WAITS [10, 10]');
    expect(r.stdout).toContain(`FAILURE resolve the API endpoint ${NLB_DNS} (AAAA) failed 2 time(s), giving up`);
  });

  it('every step has a bounded number of attempts; joins wait up to 45 minutes', () => {
    const r = py('print(json.dumps(boot.RETRY))');
    expect(r.status, r.stderr).toBe(0);
    const policy = JSON.parse(r.stdout) as Record<string, [number, number, number]>;
    expect(Object.keys(policy).sort()).toEqual(['apt', 'download', 'init', 'join', 'resolve']);
    for (const [attempts, first, longest] of Object.values(policy)) {
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(100);
      expect(first).toBeGreaterThan(0);
      expect(longest).toBeGreaterThanOrEqual(first);
    }
    const [joins, wait] = policy['join'];
    expect((joins - 1) * wait).toBeGreaterThanOrEqual(44 * 60);
  });
});

describe('project wiring', () => {
  it('Pulumi.yaml runs the compiled ESM program with the stacks directory as stack config', () => {
    const project = parse(readFileSync(join(ROOT, 'Pulumi.yaml'), 'utf8'));
    expect(project).toMatchObject({ name: 'flat6', runtime: { name: 'nodejs', options: { typescript: false } }, main: 'dist/program/index.js', stackConfigDir: 'stacks' });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.scripts.prepare).toContain('tsc');
  });

  it('the preview workflow runs pulumi preview --diff with Pulumi\'s action and comments on the pull request', () => {
    const wf = parse(readFileSync(join(ROOT, '.github', 'workflows', 'preview.yml'), 'utf8'));
    expect(Object.keys(wf.on)).toEqual(['pull_request']);
    const steps = wf.jobs.preview.steps as Array<Record<string, any>>;
    const pulumiStep = steps.find((s) => String(s['uses']).startsWith('pulumi/actions@'))!;
    expect(pulumiStep['with']).toMatchObject({ command: 'preview', diff: true, 'comment-on-pr': true });
    expect(pulumiStep['env']['PULUMI_ACCESS_TOKEN']).toBe('${{ secrets.PULUMI_ACCESS_TOKEN }}');
    expect(steps.findIndex((s) => s['run'] === 'npm ci')).toBeLessThan(steps.indexOf(pulumiStep));
    expect(wf.permissions).toMatchObject({ 'pull-requests': 'write', 'id-token': 'write' });
    // the first step refuses an empty PULUMI_ORG, which would preview "/<stack>"
    expect(steps[0]['env']).toEqual({ PULUMI_ORG: '${{ vars.PULUMI_ORG }}' });
    expect(pulumiStep['with']['stack-name']).toBe('${{ vars.PULUMI_ORG }}/${{ matrix.stack }}');
    const orgCheck = (org: string): { status: number | null; stdout: string } => spawnSync('bash', ['-c', steps[0]['run']], { env: { PATH: process.env['PATH'], PULUMI_ORG: org }, encoding: 'utf8' });
    const empty = orgCheck('');
    expect(empty.status).toBe(1);
    expect(empty.stdout).toContain('::error::the repository variable PULUMI_ORG is empty');
    expect(orgCheck('acme').status).toBe(0);
  });

  it('the preview workflow runs for changes to the TypeScript configuration and to the workflows themselves', () => {
    const wf = parse(readFileSync(join(ROOT, '.github', 'workflows', 'preview.yml'), 'utf8'));
    const paths = wf.on.pull_request.paths as string[];
    for (const p of ['tsconfig*.json', '.github/workflows/**', 'src/**', 'templates/**', 'Pulumi.yaml', 'package.json', 'package-lock.json', 'stacks/Pulumi.*.yaml']) expect(paths).toContain(p);
    // Each file the filters name exists (a filter that matches nothing guards nothing).
    expect(existsSync(join(ROOT, 'tsconfig.json'))).toBe(true);
    expect(existsSync(join(ROOT, '.github', 'workflows', 'preview.yml'))).toBe(true);
  });

  it('the preview job says which encrypted secrets a stack file lacks, before it runs pulumi', () => {
    const wf = parse(readFileSync(join(ROOT, '.github', 'workflows', 'preview.yml'), 'utf8'));
    const steps = wf.jobs.preview.steps as Array<Record<string, any>>;
    const check = steps.find((st) => st['name'] === 'the stack file carries its encrypted secrets')!;
    expect(steps.indexOf(check)).toBeLessThan(steps.findIndex((st) => String(st['uses']).startsWith('pulumi/actions@')));
    const pulumiStep = steps.find((st) => String(st['uses']).startsWith('pulumi/actions@'))!;
    expect(pulumiStep['env']['PULUMI_CONFIG_PASSPHRASE']).toBe('${{ secrets.PULUMI_CONFIG_PASSPHRASE }}');
    const dir = tempDir('ci');
    mkdirSync(join(dir, 'stacks'));
    const config = (secrets: string): string => `config:\n  flat6:aws:\n    region: us-east-2\n${secrets}  flat6:cluster:\n    name: x\n`;
    writeFileSync(join(dir, 'stacks', 'Pulumi.both.yaml'), config('  flat6:bootstrapToken:\n    secure: AAABAJx1\n  flat6:certificateKey: {secure: AAABAKy2}\n'));
    writeFileSync(join(dir, 'stacks', 'Pulumi.one.yml'), `encryptionsalt: v1:abc\n${config('  flat6:certificateKey:\n    secure: AAABAKy2\n')}`);
    writeFileSync(join(dir, 'stacks', 'Pulumi.plain.yaml'), config('  flat6:bootstrapToken: abcdef.0123456789abcdef\n  flat6:certificateKey:\n    secure: AAABAKy2\n'));
    // GitHub runs `run:` with bash -e -o pipefail.
    const run = (stack: string): { status: number | null; stdout: string } =>
      spawnSync('bash', ['-eo', 'pipefail', '-c', check['run']], { cwd: dir, env: { PATH: process.env['PATH'], STACK: stack }, encoding: 'utf8' });
    expect(run('both').status).toBe(0);
    const one = run('one');
    expect(one.status).toBe(1);
    expect(one.stdout).toContain('::error::stacks/Pulumi.one.yml has no encrypted value for: flat6:bootstrapToken.');
    const plain = run('plain');
    expect(plain.status).toBe(1);
    expect(plain.stdout).toContain('no encrypted value for: flat6:bootstrapToken.');
    expect(run('absent').stdout).toContain('stacks/Pulumi.absent.yaml has no encrypted value for: flat6:bootstrapToken flat6:certificateKey.');
  });

  it('the preview workflow picks the AWS stacks the pull request itself changes, not what its base gained since', () => {
    const wf = parse(readFileSync(join(ROOT, '.github', 'workflows', 'preview.yml'), 'utf8'));
    const pick = (wf.jobs.stacks.steps as Array<Record<string, any>>).find((s) => s['id'] === 'pick')!['run'] as string;
    const repo = mkdtempSync(join(tmpdir(), 'flat6-preview-'));
    try {
      const git = (...args: string[]): string => {
        const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: repo, encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
        return r.stdout.trim();
      };
      const write = (file: string, text: string): void => {
        mkdirSync(dirname(join(repo, file)), { recursive: true });
        writeFileSync(join(repo, file), text);
      };
      const awsStack = (name: string, v: string): string => `config:\n  flat6:cluster:\n    name: ${name}\n  flat6:aws:\n    region: ${v}\n`;
      git('init', '-q');
      write('stacks/Pulumi.aws-a.yaml', awsStack('a', 'us-east-2'));
      write('stacks/Pulumi.aws-b.yaml', awsStack('b', 'us-east-2'));
      write('stacks/Pulumi.metal.yaml', 'config:\n  flat6:cluster:\n    name: m\n');
      git('add', '-A');
      git('commit', '-qm', 'fork point');
      git('checkout', '-qb', 'pr');
      write('stacks/Pulumi.aws-a.yaml', awsStack('a', 'us-west-2'));
      git('commit', '-qam', 'pr changes aws-a');
      const head = git('rev-parse', 'HEAD');
      git('checkout', '-q', 'main');
      // the base branch moves on: a program change and aws-b, neither part of the pull request
      write('stacks/Pulumi.aws-b.yaml', awsStack('b', 'eu-west-1'));
      write('src/x.ts', 'export {};\n');
      git('add', '-A');
      git('commit', '-qm', 'base moves on');
      const base = git('rev-parse', 'HEAD');
      const out = join(repo, 'github-output');
      const r = spawnSync('bash', ['-c', pick], { cwd: repo, env: { PATH: process.env['PATH'], BASE: base, HEAD: head, GITHUB_OUTPUT: out }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe('stacks=["aws-a"]\n');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
