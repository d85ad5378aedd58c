/**
 * Generated documentation: the field reference and the string-safety table of
 * docs/stack.md come from the section declarations. Stale docs fail here; run
 * `npm run docs` to rewrite them.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { generatedDocs, DOC_BLOCKS } from '../src/spec/docs-files.js';
import { jsonSchemaOf } from '../src/spec/section.js';
import { ROOT } from './helpers.js';

describe('generated docs', () => {
  it.each(generatedDocs(ROOT))('%s is current (npm run docs)', (file, text) => {
    expect(readFileSync(file, 'utf8'), `${file} is stale: run npm run docs`).toBe(text);
  });
  it('every field of every declared section appears in its reference', () => {
    for (const b of DOC_BLOCKS) {
      const doc = readFileSync(`${ROOT}/${b.file}`, 'utf8');
      const walk = (s: ReturnType<typeof jsonSchemaOf>): void => {
        for (const br of s.anyOf ?? []) walk(br);
        if (s.items) walk(s.items);
        for (const [k, v] of Object.entries(s.properties ?? {})) {
          expect(doc, `${b.section.key} field ${k}`).toContain(`| \`${k}\` |`);
          walk(v);
        }
      };
      walk(jsonSchemaOf(b.section));
    }
  });
});
