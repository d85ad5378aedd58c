import { STACK_SCHEMA } from '../../spec/schema.js';
import type { Command } from '../main.js';

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of the flat6:cluster stack section (for editors).',
  usage: 'flat6 schema',
  options: {},
  help: `Prints a JSON Schema (draft 2020-12) of the value under config: flat6:cluster.
Point your editor's YAML language server at it, e.g. save it as
flat6.schema.json and map it to the flat6:cluster key.`,
  run(_args, io) {
    io.stdout(JSON.stringify(STACK_SCHEMA, null, 2) + '\n');
    return 0;
  },
};
