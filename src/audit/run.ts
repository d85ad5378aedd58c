/**
 * One audit run: files, directories and standard input, then the live
 * cluster, through one Auditor; what could not be read is collected, never
 * skipped in silence.
 */
import { Auditor, MAX_FINDINGS_PER_OBJECT } from './engine.js';
import { expandPaths, readFile } from './input/read.js';
import { listAll, RESOURCES } from './live/client.js';
import { LiveError, loadKubeconfig } from './live/kubeconfig.js';
import { AuditInputError, type Finding } from './types.js';

export interface AuditOptions {
  paths: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin: AsyncIterable<Buffer | string>;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  excludeKinds?: string[];
}

export interface AuditResult {
  findings: Finding[];
  objects: number;
  errors: AuditInputError[];
  /** what was not audited and why: one line per reason, with a count and examples */
  notes: string[];
}

export async function runAudit(opts: AuditOptions): Promise<AuditResult> {
  const auditor = new Auditor(opts.excludeKinds);
  const errors: AuditInputError[] = [];
  const reasons = new Map<string, { count: number; examples: string[] }>();
  const note = (where: string, what: string): void => {
    let r = reasons.get(what);
    if (!r) reasons.set(what, (r = { count: 0, examples: [] }));
    r.count++;
    if (r.examples.length < 4 && !r.examples.includes(where)) r.examples.push(where);
  };
  const sink = {
    object: (o: Parameters<Auditor['add']>[0], src: Parameters<Auditor['add']>[1]): void => {
      if (!auditor.add(o, src)) note(String(o['kind']), 'objects not audited (--exclude-kind)');
    },
    note,
    error: (e: AuditInputError): void => void errors.push(e),
  };
  if (opts.paths.length) {
    const files = await expandPaths(opts.paths, opts.cwd, sink);
    for (const f of files) await readFile(f, opts.cwd, opts.stdin, sink);
  }
  if (opts.kubeconfig) {
    try {
      const access = await loadKubeconfig(opts.kubeconfig, opts.context, { env: opts.env });
      for (const r of RESOURCES) {
        if (auditor.isExcluded(r.kind)) {
          note(r.plural, 'resources not listed (--exclude-kind)');
          continue;
        }
        if (!r.namespaced && opts.namespace) {
          note(r.plural, 'cluster-scoped resources not listed (--namespace)');
          continue;
        }
        const outcome = await listAll(access, r, opts.namespace, (o) => auditor.add(o, { label: 'cluster' }));
        if (!outcome.served) note(`${r.prefix}/${r.plural}`, 'resources this API server does not serve, not audited');
      }
    } catch (e) {
      if (!(e instanceof LiveError)) throw e;
      errors.push(new AuditInputError('cluster', undefined, e.message));
    }
  }
  for (const t of auditor.truncated) note(t, `objects with more than ${MAX_FINDINGS_PER_OBJECT} findings: only the first ${MAX_FINDINGS_PER_OBJECT} of each are reported`);
  const notes = [...reasons].map(([what, r]) => `${r.count} ${what}: ${r.examples.slice(0, 3).join(', ')}${r.examples.length > 3 ? ', ...' : ''}`);
  return { findings: auditor.findings(), objects: auditor.objects, errors, notes };
}
