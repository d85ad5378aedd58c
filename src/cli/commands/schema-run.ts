/** `flat6 schema`: print the JSON Schema of a stack section. */
import { UsageError } from '../../core/diagnostics.js';
import { AWS_SECTION } from '../../cloud/aws/section.js';
import { OCI_SECTION } from '../../cloud/oci/section.js';
import { ADDONS_SECTION } from '../../k8s/section.js';
import { CLUSTER_SECTION } from '../../spec/schema.js';
import { jsonSchemaOf, type Section } from '../../spec/section.js';
import type { ParsedArgs } from '../main.js';
import type { CliIO } from '../io.js';
import { SECTION_KEYS } from './schema.js';

/** Every stack section, by the name --section takes. */
export const SECTIONS: ReadonlyMap<string, Section> = new Map<string, Section>([
  ['cluster', CLUSTER_SECTION],
  ['aws', AWS_SECTION],
  ['oci', OCI_SECTION],
  ['addons', ADDONS_SECTION],
]);

/** The names and keys that `flat6 schema --help` lists (SECTION_KEYS) are those of SECTIONS. */
function checkSectionKeys(): void {
  const listed = [...SECTION_KEYS].map(([n, k]) => `${n} (${k})`).join(', ');
  const actual = [...SECTIONS].map(([n, s]) => `${n} (${s.key})`).join(', ');
  if (listed !== actual) throw new Error(`flat6 schema --help lists the sections ${listed}; they are ${actual}`);
}

export function runSchema(args: ParsedArgs, io: CliIO): number {
  checkSectionKeys();
  const name = (args.values['section'] as string | undefined) ?? 'cluster';
  const section = SECTIONS.get(name);
  if (!section) throw new UsageError(`unknown section "${name}"; known: ${[...SECTIONS.keys()].join(', ')}`);
  io.stdout(JSON.stringify(jsonSchemaOf(section), null, 2) + '\n');
  return 0;
}
