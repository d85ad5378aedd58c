/** Which generated blocks live in which docs file (scripts/docs.mjs, test/docs.test.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fieldReference, replaceBlock, stringSafety } from './docs.js';
import { CLUSTER_SECTION } from './schema.js';
// The docs tool lists every section, including those declared by the cloud layers.
import { AWS_SECTION } from '../cloud/aws/section.js';
import { OCI_SECTION } from '../cloud/oci/section.js';
import { ADDONS_SECTION } from '../k8s/section.js';
import type { Section } from './section.js';

interface Block {
  file: string;
  key: string;
  body: (s: Section) => string;
  section: Section;
}

export const DOC_BLOCKS: Block[] = [
  { file: 'docs/stack.md', key: 'flat6:cluster fields', body: fieldReference, section: CLUSTER_SECTION },
  { file: 'docs/stack.md', key: 'flat6:cluster strings', body: stringSafety, section: CLUSTER_SECTION },
  { file: 'docs/aws.md', key: 'flat6:aws fields', body: fieldReference, section: AWS_SECTION },
  { file: 'docs/aws.md', key: 'flat6:aws strings', body: stringSafety, section: AWS_SECTION },
  { file: 'docs/oci.md', key: 'flat6:oci fields', body: fieldReference, section: OCI_SECTION },
  { file: 'docs/oci.md', key: 'flat6:oci strings', body: stringSafety, section: OCI_SECTION },
  { file: 'docs/stack.md', key: 'flat6:addons fields', body: fieldReference, section: ADDONS_SECTION },
];

/** [absolute path, text with every generated block current] for each docs file with blocks. */
export function generatedDocs(root: string): Array<[string, string]> {
  const texts = new Map<string, string>();
  for (const b of DOC_BLOCKS) {
    const path = join(root, b.file);
    const text = texts.get(path) ?? readFileSync(path, 'utf8');
    texts.set(path, replaceBlock(text, b.key, b.body(b.section)));
  }
  return [...texts];
}
