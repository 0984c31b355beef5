// Shared jest settings for every project: TypeScript through SWC (decorators + metadata for
// NestJS), and the @quarry/* path aliases resolved to library sources.
const path = require('node:path');

const root = __dirname;

module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.(ts|js)$': [
      '@swc/jest',
      {
        swcrc: false,
        sourceMaps: 'inline',
        module: { type: 'commonjs' },
        jsc: {
          target: 'es2023',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          keepClassNames: true,
        },
      },
    ],
  },
  // content-disposition 3 (under @fastify/static, which the docs UI uses) and request-filtering-agent
  // (task webhooks) are ESM only; Node loads them with require(esm), jest's module system does not,
  // so jest compiles those packages to CommonJS.
  transformIgnorePatterns: ['^(?!.*/node_modules/(content-disposition|request-filtering-agent)/).*/node_modules/'],
  moduleNameMapper: {
    '^@quarry/([a-z-]+)$': path.join(root, 'libs/$1/src/index.ts'),
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
};
