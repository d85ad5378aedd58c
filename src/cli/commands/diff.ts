import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from '../../core/diagnostics.js';
import { formatMarkdown } from '../../diff/format-markdown.js';
import { formatText } from '../../diff/format-text.js';
import { runDiff, type HeadStack } from '../../diff/run.js';
import { stackNameOf } from '../../spec/load.js';
import { SECRETS_ENV } from '../../render/secrets.js';
import type { CliIO } from '../io.js';
import { STACK_HELP, STACK_OPTION, type Command } from '../main.js';
import { listStacks, resolveStackFile, stacksDir } from '../stack.js';

const FORMATS = ['text', 'markdown', 'json'] as const;
type Format = (typeof FORMATS)[number];

function shown(io: CliIO, file: string): string {
  const rel = relative(io.cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function headStacks(io: CliIO, dir: string): HeadStack[] {
  return listStacks(dir).map((name) => {
    const file = ['yaml', 'yml'].map((e) => join(dir, `Pulumi.${name}.${e}`)).find((p) => existsSync(p))!;
    return { name, file, shownAs: shown(io, file) };
  });
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'Compare stacks with a git ref or an earlier render: cluster changes, hosts added and removed, changed files; RENUMBER and DISRUPTIVE changes block.',
  usage: 'flat6 diff [--stack NAME | --all-stacks] --base REF|DIR [--format text|markdown|json] [--allow-renumber] [--context N] [--templates DIR] [--secrets FILE]',
  options: {
    ...STACK_OPTION,
    'all-stacks': { type: 'boolean' },
    base: { type: 'string', short: 'b' },
    format: { type: 'string', short: 'f' },
    'allow-renumber': { type: 'boolean' },
    context: { type: 'string', short: 'U' },
    templates: { type: 'string' },
    secrets: { type: 'string' },
  },
  help: `${STACK_HELP}
      --all-stacks       every stack of stacks/ now and at the base (new and removed
                         stacks included); takes a git ref as --base
  -b, --base REF|DIR     what to compare with: a git ref (branch, tag, commit, HEAD~1;
                         the stack file and the templates as they were at that commit,
                         read with git; the working tree is not touched) or the
                         --out directory of an earlier flat6 render (it has a plan.json).
                         A directory of that name wins over a ref
  -f, --format F         text (default), markdown (a pull-request comment, at most
                         65,536 characters) or json
      --allow-renumber   report RENUMBER, DISRUPTIVE and UNVERIFIED findings without
                         failing (exit 0)
  -U, --context N        lines of context around each change (default 3)
      --templates DIR    template overlay of the head, as flat6 render --templates; read
                         at the base commit too when it lies inside the repository
      --secrets FILE     secrets to render the head with against a render directory
                         (else ${SECRETS_ENV.token}/${SECRETS_ENV.certificateKey}, then DIR/secrets.yaml);
                         a git base renders both sides with fixed stand-ins

The diff works at the plan level first (cluster fields, racks and nodes by
name, without walking unchanged racks), then renders only the hosts and
fabric routers whose inputs changed (their own plan, a cluster setting, a
template they render); when more than 1,000 hosts changed, a sample is
rendered and the count reported. AWS stacks also get what each node pool
boots with (the decoded cloud-init user data). Bootstrap tokens, certificate
keys and CA hashes are masked on both sides and never shown.

RENUMBER: a node present on both sides whose address, pod prefix, rack or
gateway changes, named with old and new values and the stack line that moved
it. DISRUPTIVE: a change a live cluster cannot take (cluster name, pod or
service range, API VIP, control-plane membership; on AWS the region and the
VPC's IPv4 CIDR). UNVERIFIED: the base stack no longer loads or passes the
checks, so the guard could not run.

Exit status: 0 nothing blocks, 1 a RENUMBER, DISRUPTIVE or UNVERIFIED finding
(without --allow-renumber) or a stack that fails its checks, 2 usage error,
unknown ref or a stack that cannot be parsed.`,
  run(args, io) {
    const v = args.values;
    const base = v['base'] as string | undefined;
    if (base === undefined) throw new UsageError('--base REF|DIR is required: a git ref (e.g. --base main, --base HEAD~1) or the directory of an earlier flat6 render');
    if (v['stack'] !== undefined && v['all-stacks']) throw new UsageError('--stack and --all-stacks exclude each other');
    const format = (v['format'] as string | undefined) ?? 'text';
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format ${JSON.stringify(format)}: use text, markdown or json`);
    const contextText = (v['context'] as string | undefined) ?? '3';
    if (!/^\d{1,4}$/.test(contextText) || Number(contextText) > 1000) throw new UsageError(`--context ${JSON.stringify(contextText)}: a number of lines from 0 to 1000`);
    const templates = v['templates'] as string | undefined;
    const secrets = v['secrets'] as string | undefined;
    let stacks: Parameters<typeof runDiff>[0]['stacks'];
    if (v['all-stacks']) {
      const dir = stacksDir(io);
      stacks = { kind: 'all', dir, shownDir: shown(io, dir), head: headStacks(io, dir) };
    } else {
      const file = resolveStackFile(io, v['stack'] as string | undefined);
      stacks = { kind: 'one', stack: { name: stackNameOf(file), file, shownAs: shown(io, file) } };
    }
    const report = runDiff({
      base,
      basePath: resolve(io.cwd, base),
      stacks,
      ...(templates !== undefined ? { overlay: resolve(io.cwd, templates) } : {}),
      ...(secrets !== undefined ? { secretsFile: resolve(io.cwd, secrets) } : {}),
      env: io.env,
      allowRenumber: v['allow-renumber'] === true,
      context: Number(contextText),
    });
    const f = format as Format;
    io.stdout(f === 'json' ? JSON.stringify(report, null, 2) + '\n' : f === 'markdown' ? formatMarkdown(report) : formatText(report));
    return report.exitCode;
  },
};
