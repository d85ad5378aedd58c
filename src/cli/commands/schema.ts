import type { Command } from '../main.js';

/**
 * The stack sections --section takes, by name, with the config key of each
 * (the sections themselves are SECTIONS of ./schema-run.ts, which checks these keys).
 */
export const SECTION_KEYS: ReadonlyMap<string, string> = new Map([
  ['cluster', 'flat6:cluster'],
  ['aws', 'flat6:aws'],
  ['oci', 'flat6:oci'],
  ['addons', 'flat6:addons'],
]);

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of a stack section (default flat6:cluster), for editors and CI.',
  usage: 'flat6 schema [--section NAME]',
  options: { section: { type: 'string' } },
  help: `      --section NAME   which section: ${[...SECTION_KEYS].map(([n, k]) => `${n} (${k})`).join(', ')}.
                       Default: cluster.

Prints a JSON Schema (draft 2020-12) of the value under config: <section key>.
Point your editor's YAML language server at it, e.g. save it as
flat6.schema.json and map it to the flat6:cluster key. The same declaration
checks stack files (flat6 validate) and generates the field tables of
docs/stack.md, docs/aws.md, docs/oci.md and docs/stack.md's flat6:addons section.`,
  async run(args, io) {
    const { runSchema } = await import('./schema-run.js');
    return runSchema(args, io);
  },
};
