import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'cdk.out', '.local', 'examples', 'coverage', 'client/dist'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          // Patterns are gitignore-style: `#` must be escaped, or the line is a comment.
          patterns: [
            '@aws-sdk/*',
            'dockerode',
            '\\#adapters/*',
            '\\#handlers/*',
            '\\#local/*',
            '\\#lib/*',
            '../adapters/*',
            '../../adapters/*',
            '../handlers/*',
          ],
        },
      ],
    },
  },
  {
    // Adapters serve the core's ports: what they share with handlers is defined in core.
    files: ['functions/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '\\#handlers/*',
            '\\#local/*',
            '\\#lib/*',
            '../handlers/*',
            '../../handlers/*',
            '../../local/*',
          ],
        },
      ],
    },
  },
);
