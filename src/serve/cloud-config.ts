/**
 * A host's files as cloud-init user data: `#cloud-config` with write_files,
 * each file base64-encoded (so no byte of it is YAML) with its mode kept.
 */
import type { ClusterPlan, NodePlan } from '../plan/plan.js';
import type { FileEntry } from '../render/files.js';

const SAFE_PATH = /^[A-Za-z0-9._/-]+$/;

export function cloudConfig(plan: ClusterPlan, node: NodePlan, files: FileEntry[]): string {
  const lines = ['#cloud-config', `# flat6 ${plan.stackName}: the files of host ${node.name}`, 'write_files:'];
  for (const f of files) {
    if (!SAFE_PATH.test(f.path)) throw new Error(`unexpected file path ${JSON.stringify(f.path)}`);
    lines.push(
      `  - path: /${f.path}`,
      '    owner: root:root',
      `    permissions: '${(f.mode & 0o7777).toString(8).padStart(4, '0')}'`,
      '    encoding: b64',
      `    content: ${Buffer.from(f.content, 'utf8').toString('base64')}`,
    );
  }
  return lines.join('\n') + '\n';
}
