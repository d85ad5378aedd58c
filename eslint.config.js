// ESLint: typescript-eslint's strict, type-checked rules over src/ and test/.
// `npm run lint` (part of `npm test`) allows no warning. Rules adjusted below say why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'out/**', 'coverage/**', 'bench/**', 'scripts/**', 'eslint.config.js', 'vitest.config.ts'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Numbers, booleans and bigints read naturally in messages and file names.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allow: [{ from: 'lib', name: 'BigInt' }] }],
      // `x!` marks an index or lookup whose presence the code has just established (tsconfig has no
      // noUncheckedIndexedAccess, so the alternative is an unreachable branch at each place).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // tsconfig has no noUncheckedIndexedAccess yet (turning it on is 328 sites of work), so the type
      // checker thinks every array or record lookup is present: these two rules would flag the guards and
      // the `!` that protect such lookups. They come back on with noUncheckedIndexedAccess.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // `(x) => list.push(x)` style callbacks are common and clear.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
  {
    // Plain JavaScript files (probe programs) are not part of the TypeScript project.
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: Object.fromEntries(['process', 'console', 'Buffer', 'URL', 'performance', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'].map((g) => [g, 'readonly'])) },
  },
  {
    // Escaping control characters is what these expressions are for.
    files: ['src/core/diagnostics.ts', 'src/spec/section.ts', 'src/render/templates.ts', 'test/**/*.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Tests read parsed YAML and JSON as loosely typed data on purpose.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
