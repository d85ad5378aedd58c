import { UsageError } from '../../core/diagnostics.js';
import { AWS_SECTION } from '../../cloud/aws/section.js';
import { OCI_SECTION } from '../../cloud/oci/section.js';
import { ADDONS_SECTION } from '../../k8s/section.js';
import { CLUSTER_SECTION } from '../../spec/schema.js';
import { jsonSchemaOf, type Section } from '../../spec/section.js';
import type { Command } from '../main.js';

/** Every stack section, by the name --section takes. */
export const SECTIONS: ReadonlyMap<string, Section> = new Map<string, Section>([
  ['cluster', CLUSTER_SECTION],
  ['aws', AWS_SECTION],
  ['oci', OCI_SECTION],
  ['addons', ADDONS_SECTION],
]);

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of a stack section (default flat6:cluster), for editors and CI.',
  usage: 'flat6 schema [--section NAME]',
  options: { section: { type: 'string' } },
  help: `      --section NAME   which section: ${[...SECTIONS].map(([n, s]) => `${n} (${s.key})`).join(', ')}.
                       Default: cluster.

Prints a JSON Schema (draft 2020-12) of the value under config: <section key>.
Point your editor's YAML language server at it, e.g. save it as
flat6.schema.json and map it to the flat6:cluster key. The same declaration
checks stack files (flat6 validate) and generates the field tables of
docs/stack.md, docs/aws.md, docs/oci.md and docs/stack.md's flat6:addons section.`,
  run(args, io) {
    const name = (args.values['section'] as string | undefined) ?? 'cluster';
    const section = SECTIONS.get(name);
    if (!section) throw new UsageError(`unknown section "${name}"; known: ${[...SECTIONS.keys()].join(', ')}`);
    io.stdout(JSON.stringify(jsonSchemaOf(section), null, 2) + '\n');
    return 0;
  },
};
