import { availableParallelism } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from '../../core/diagnostics.js';
import type { RenderContext } from '../../render/context.js';
import { MODE_PRIVATE } from '../../render/files.js';
import { progressLine, renderOutput, type Progress } from '../../render/output.js';
import { chooseSecrets, secretsYaml, SECRETS_ENV } from '../../render/secrets.js';
import { TemplateSet } from '../../render/templates.js';
import { renderAddons } from '../../k8s/render.js';
import type { OutputFormat } from '../../render/units.js';
import { checkOutputTarget, currentUmask, DirWriter, openStage } from '../../sinks/dir.js';
import { planFromArgs, STACK_HELP, STACK_OPTION, type Command } from '../main.js';

export const SECRETS_FILE = 'secrets.yaml';
/** Above this many nodes a whole-cluster render must be asked for by name (--all-hosts). */
export const MAX_HOSTS_UNASKED = 10_000;
/** Below this many nodes the default is one thread: starting workers costs more than they save. */
export const PARALLEL_MIN_HOSTS = 2_000;
const FORMATS: OutputFormat[] = ['dir', 'tar', 'tar.gz'];

function parseJobs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9]\d{0,2}$/.test(v)) throw new UsageError(`--jobs takes a whole number from 1 to 999, not ${JSON.stringify(v)}`);
  return Number(v);
}

export const renderCommand: Command = {
  name: 'render',
  summary: 'Render every host\'s files (sysctl, netplan, kubeadm, CNI, routing, HA) and the fabric routers\' into a directory or per-rack archives.',
  usage: 'flat6 render [--stack NAME] --out DIR [--host NAME | --all-hosts] [--format dir|tar|tar.gz] [--jobs N] [--templates DIR] [--secrets FILE]',
  options: {
    ...STACK_OPTION,
    out: { type: 'string', short: 'o' },
    host: { type: 'string' },
    templates: { type: 'string' },
    secrets: { type: 'string' },
    'all-hosts': { type: 'boolean' },
    format: { type: 'string' },
    jobs: { type: 'string', short: 'j' },
  },
  help: `${STACK_HELP}
  -o, --out DIR          output directory; replaced as a whole, atomically. DIR must
                         be new, empty or earlier flat6 output (it has a plan.json);
                         never the current directory, one of its parents, or the
                         directory of the stack file
      --host NAME        render one node only (O(1) in cluster size), with its
                         rack's top-of-rack router
      --all-hosts        required to render every host of a stack of more than
                         ${MAX_HOSTS_UNASKED} nodes (about 10 files per host)
      --format FORMAT    dir (default): the tree below; tar or tar.gz: one archive
                         per rack, DIR/racks/<rack>.tar[.gz] (hosts/<host>/etc/...),
                         and DIR/fabric.tar[.gz] (fabric/<router>/etc/...), written
                         as streams; plan.json and secrets.yaml stay plain files.
                         Extracted into one directory they equal the dir render
  -j, --jobs N           render racks on N worker threads (default: the number of
                         CPUs for stacks of ${PARALLEL_MIN_HOSTS} nodes or more, else 1); the
                         output is byte-identical whatever N
      --templates DIR    overlay directory: a file there (e.g. netplan/60-flat6.yaml.hbs)
                         replaces the built-in template of the same path
      --secrets FILE     YAML with bootstrapToken, certificateKey and optionally
                         caCertHashes (mode 0600)

Output (per host; control-plane nodes also get keepalived and haproxy):
  DIR/hosts/<host>/etc/sysctl.d/99-flat6.conf        kernel settings (0644)
  DIR/hosts/<host>/etc/modules-load.d/flat6.conf     br_netfilter, overlay (0644)
  DIR/hosts/<host>/etc/netplan/60-flat6.yaml         static IPv6 uplink (0600)
  DIR/hosts/<host>/etc/netplan/61-flat6-pods.yaml    the node's pod prefix route (0600)
  DIR/hosts/<host>/etc/flat6/kubeadm.yaml            kubeadm v1beta4 (0600: holds the token)
  DIR/hosts/<host>/etc/cni/net.d/10-flat6.conflist   ptp + host-local over the pod prefix
  DIR/hosts/<host>/etc/bird/bird.conf                BGP announcement of the pod prefix (bgp mode)
  DIR/hosts/<host>/etc/keepalived/keepalived.conf    VRRPv3 for the API VIP (+ check_apiserver.sh)
  DIR/hosts/<host>/etc/haproxy/haproxy.cfg           the API endpoint's load balancer
  DIR/fabric/<router>/etc/...                        spine and top-of-rack routers
  DIR/plan.json                                      the address plan of what was rendered
  DIR/secrets.yaml                                   generated secrets (0600); an existing one is
                                                     kept unchanged when secrets come from elsewhere

Secrets come from --secrets, else ${SECRETS_ENV.token} and ${SECRETS_ENV.certificateKey}
(and ${SECRETS_ENV.caCertHashes}, comma-separated), else DIR/secrets.yaml of an
earlier render, else they are generated. ${SECRETS_ENV.caCertHashes} set on its own
adds CA pins to whichever secrets are used. Without CA hashes, joins skip CA pinning.
If any check fails nothing is written and an existing DIR stays as it was.`,
  async run(args, io) {
    const format = (args.values['format'] as string | undefined) ?? 'dir';
    if (!FORMATS.includes(format as OutputFormat)) throw new UsageError(`--format takes ${FORMATS.join(', ')}, not ${JSON.stringify(format)}`);
    const jobsArg = parseJobs(args.values['jobs'] as string | undefined);
    const out = args.values['out'] as string | undefined;
    if (!out) throw new UsageError('--out DIR is required (e.g. flat6 render --out out)');
    const outPath = resolve(io.cwd, out);
    const { stack, plan, file } = planFromArgs(args, io);
    const secretsArg = args.values['secrets'] as string | undefined;
    const templatesArg = args.values['templates'] as string | undefined;
    const protect = [{ path: file, what: 'stack file' }];
    // DIR/secrets.yaml itself is carried into the new tree unchanged; any other input inside DIR would be deleted.
    if (secretsArg !== undefined && resolve(io.cwd, secretsArg) !== join(outPath, SECRETS_FILE)) protect.push({ path: resolve(io.cwd, secretsArg), what: '--secrets file' });
    if (templatesArg !== undefined) protect.push({ path: resolve(io.cwd, templatesArg), what: '--templates directory' });
    const sink = { cwd: io.cwd, protect, carry: [SECRETS_FILE] };
    checkOutputTarget(outPath, sink); // before secrets are read from DIR or anything is rendered
    const host = args.values['host'] as string | undefined;
    const only = host === undefined ? undefined : plan.findNode(host);
    if (host !== undefined && !only) throw new UsageError(`no node "${host}" in stack ${plan.stackName} (flat6 plan lists the nodes)`);
    if (!only && plan.nodeCount > MAX_HOSTS_UNASKED && !args.values['all-hosts']) {
      throw new UsageError(
        `stack ${plan.stackName} has ${plan.nodeCount} nodes: rendering them all writes about ${plan.nodeCount * 10} files. Render one host with --host NAME (e.g. --host ${plan.controlPlanes[0]!.name}), or pass --all-hosts to render every one`,
      );
    }
    // <out>/cluster/addons/*.yaml when the stack has flat6:addons (docs/addons.md); checked before anything is written
    const addons = only ? [] : renderAddons(stack, plan);
    const previous = join(outPath, SECRETS_FILE);
    const choice = chooseSecrets({ file: secretsArg === undefined ? undefined : resolve(io.cwd, secretsArg), env: io.env, previous });
    const ctx: RenderContext = { plan, templates: new TemplateSet(templatesArg === undefined ? undefined : resolve(io.cwd, templatesArg)), secrets: choice.secrets };

    const total = only ? 1 : plan.nodeCount;
    const jobs = jobsArg ?? (total >= PARALLEL_MIN_HOSTS ? availableParallelism() : 1);
    let shown = -1;
    const progress = (p: Progress): void => {
      const step = Math.floor((p.hosts / p.total) * 20);
      if (total < 1000 || (step === shown && p.hosts !== p.total)) return;
      shown = step;
      io.stderr(`${progressLine(p)}\n`);
    };
    const stage = openStage(outPath, sink);
    let r: { files: number; bytes: number; archives: number; carried: string[] };
    try {
      const umask = currentUmask();
      const rel = relative(io.cwd, file);
      const o = await renderOutput(ctx, stage.root, {
        format: format as OutputFormat,
        jobs,
        umask,
        only,
        progress,
        worker: { stackFile: file, stackShownAs: rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file, templates: ctx.templates.overlay, secrets: choice.secrets },
      });
      const aw = new DirWriter(stage.root, umask);
      for (const f of addons) stage.fsOp(() => aw.write(f.path, f.mode, f.content));
      o.files += aw.files;
      o.bytes += aw.bytes;
      if (choice.persist) {
        const w = new DirWriter(stage.root, umask);
        stage.fsOp(() => w.write(SECRETS_FILE, MODE_PRIVATE, secretsYaml(choice.persist!)));
        o.files += w.files;
        o.bytes += w.bytes;
      }
      const carried = stage.carry([SECRETS_FILE], (n) => n === SECRETS_FILE && choice.persist !== undefined);
      stage.commit();
      r = { ...o, carried };
    } catch (e) {
      stage.abort();
      if (e instanceof Error && 'code' in e && typeof (e as NodeJS.ErrnoException).code === 'string') throw new UsageError(`cannot write output ${out}: ${e.message}`);
      throw e;
    }
    const what = only ? `host ${only.name}` : `${plan.nodeCount} host(s)`;
    const archives = r.archives ? ` in ${r.archives} ${format} archive(s)` : '';
    io.stdout(`rendered ${what} of ${plan.stackName}: ${r.files} files, ${r.bytes} bytes${archives} -> ${out}\n`);
    if (r.carried.includes(SECRETS_FILE) && choice.source !== previous) {
      io.stdout(`kept the existing ${join(out, SECRETS_FILE)} unchanged (0600); this render took its secrets from ${secretsArg ?? choice.source}\n`);
    }
    if (choice.source === 'generated') io.stdout(`generated a bootstrap token and certificate key: ${join(out, SECRETS_FILE)} (0600; keep it out of git)\n`);
    if (choice.secrets.caCertHashes.length === 0) io.stderr('note: no caCertHashes given; join configurations set unsafeSkipCAVerification (see docs/secrets.md)\n');
    return 0;
  },
};
