// Lint: typescript-eslint's type-checked rules, plus the client's own boundaries (STYLE.md): no
// regular expressions (recognising errors is the server's job) and `vscode` imported only by the
// glue modules, so everything else stays unit-testable under plain Node.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const GLUE = ['src/extension.ts', 'src/client.ts', 'src/host.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-restricted-globals': ['error', { name: 'setInterval', message: 'No polling in the client: the server owns every timer.' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'Literal[regex]', message: 'No regular expressions in the client: classification belongs to the server.' },
        { selector: "NewExpression[callee.name='RegExp'], CallExpression[callee.name='RegExp']", message: 'No regular expressions in the client.' },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts'],
    ignores: GLUE,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'Only the glue modules import vscode; use the interfaces in ports.ts.' }], patterns: ['vscode-languageclient*'] },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'describe', 'it'], package: 'node:test' }] }],
    },
  },
  { files: ['eslint.config.mjs'], ...tseslint.configs.disableTypeChecked },
);
