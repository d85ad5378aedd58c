/** `flat6 diff`: compare stacks with a git ref or an earlier render. */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from '../../core/diagnostics.js';
import { formatMarkdown } from '../../diff/format-markdown.js';
import { formatText } from '../../diff/format-text.js';
import { runDiff, type HeadStack } from '../../diff/run.js';
import { stackNameOf } from '../../spec/load.js';
import type { CliIO } from '../io.js';
import type { ParsedArgs } from '../main.js';
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

export function runDiffCommand(args: ParsedArgs, io: CliIO): number {
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
}
