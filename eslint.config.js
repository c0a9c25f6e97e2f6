import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  // test/bench/gen-dataset.cjs: the benchmark dataset generator, vendored as it is (plain CommonJS).
  { ignores: ['dist/**', 'node_modules/**', 'core/chunker/generated/**', 'release/**', 'test/bench/gen-dataset.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // core/ is plain TypeScript on Node: no Electron, no React, no DOM.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*'], message: 'core/ must not import electron.' },
            {
              group: ['react', 'react-dom', 'react/*', 'react-dom/*', 'zustand', 'zustand/*'],
              message: 'core/ must not import UI libraries.',
            },
            { group: ['**/electron/**', '**/renderer/**'], message: 'core/ must not import the app layers.' },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // contract/ is imported by main, preload and renderer alike: types and validators, nothing host-specific.
    files: ['contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'electron', 'react', 'react-dom'],
              message: 'contract/ must run everywhere: no Node, Electron or UI imports.',
            },
            {
              group: ['**/core/**', '**/host/**', '**/renderer/**', '**/electron/**', '**/web/**'],
              message: 'contract/ depends on nothing of the app.',
            },
          ],
        },
      ],
    },
  },
  {
    // renderer/ runs in a sandboxed page: no Node built-ins, no core internals (it talks to the host through IPC).
    files: ['renderer/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'child_process', 'worker_threads', 'electron'],
              message: 'renderer/ must not use Node or Electron directly.',
            },
            { group: ['**/core/**'], message: 'renderer/ reaches core/ only through the typed IPC contract.' },
          ],
        },
      ],
    },
  },
);
