/**
 * flat6 render: plan the stack, render every unit (src/render/output.ts) into
 * a staging directory, add the add-ons and secrets, and swap the tree in.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../core/diagnostics.js';
import type { RenderContext } from '../../render/context.js';
import { MODE_PRIVATE } from '../../render/files.js';
import { progressReporter, renderOutput } from '../../render/output.js';
import { chooseSecrets, secretsYaml } from '../../render/secrets.js';
import { TemplateSet } from '../../render/templates.js';
import { renderAddons } from '../../k8s/render.js';
import type { OutputFormat } from '../../render/units.js';
import { checkOutputTarget, currentUmask, DirWriter, openStage } from '../../sinks/dir.js';
import { stackData } from '../../spec/load.js';
import type { ParsedArgs } from '../main.js';
import type { CliIO } from '../io.js';
import { planFromArgs } from '../plan-args.js';
import { defaultJobs, FORMATS, MAX_HOSTS_UNASKED, SECRETS_FILE } from './render.js';

function parseJobs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9]\d{0,2}$/.test(v)) throw new UsageError(`--jobs takes a whole number from 1 to 999, not ${JSON.stringify(v)}`);
  return Number(v);
}


export async function runRender(args: ParsedArgs, io: CliIO): Promise<number> {
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
  const jobs = jobsArg ?? defaultJobs(format as OutputFormat, total, availableParallelism());
  const progress = progressReporter((line) => io.stderr(`${line}\n`));
  const stage = openStage(outPath, sink);
  let r: { files: number; bytes: number; archives: number; carried: string[] };
  try {
    const umask = currentUmask();
    const o = await renderOutput(ctx, stage.root, {
      format: format as OutputFormat,
      jobs,
      umask,
      only,
      progress,
      worker: { stack: stackData(stack), templates: ctx.templates.overlay, secrets: choice.secrets },
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
}
