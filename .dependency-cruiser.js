// The layering of the code base, checked by `npm test` (npm run lint:deps). Lower layers never
// import higher ones: workflows/contracts < src/platform < src/store < activities | src/intake
// < src/http < src/main; src/dev (embedded servers for `npm start` and the tests) sits beside
// main. Workflow code imports only itself, the contracts and (type-only) the activity registry;
// ESLint keeps Node built-ins out of it.
const layer = (name, path, mayNotImport) => ({
  name,
  severity: 'error',
  from: { path },
  to: { path: mayNotImport },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    layer('contracts-stand-alone', '^workflows/contracts\\.ts$', '^(src|activities|workflows/(?!contracts))'),
    layer('platform-is-the-base', '^src/platform/', '^(src/(store|intake|http|main|dev)|activities|workflows/(?!contracts))'),
    layer('store-below-logic', '^src/store/', '^(src/(intake|http|main|dev)|activities|workflows/(?!contracts))'),
    layer('activities-beside-intake', '^activities/', '^(src/(intake|http|main|dev)|workflows/(?!contracts))'),
    layer('intake-beside-activities', '^src/intake/', '^(src/(http|main|dev)|activities|workflows/(?!contracts))'),
    layer('http-below-main', '^src/http/', '^(src/(main|dev)|activities|workflows/(?!contracts))'),
    layer('dev-servers-stand-alone', '^src/dev/', '^(src/(store|intake|http|main)|activities|workflows/(?!contracts))'),
    {
      name: 'workflows-are-deterministic',
      comment: 'Workflow code runs in the sandbox: no I/O, no src/, activities only as types.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^src/' },
    },
    {
      name: 'production-code-uses-production-dependencies',
      comment:
        'The image installs only `dependencies` (npm ci --omit=dev); only `npm start`, `npm run cluster` and their embedded servers may use development packages.',
      severity: 'error',
      from: { path: '^(src|activities|workflows)/', pathNot: '^src/(dev/|main/(start|cluster)\\.ts$)' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workflows-see-activities-as-types',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|activities|workflows|node_modules)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
