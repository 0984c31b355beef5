// The fault-injection suite: the five services on a Postgres and a Redis of its own, killed and
// restarted while they work. `npm test` runs it at FAULTS_SCALE=quick; `npm run test:faults` at full.
module.exports = {
  displayName: 'faults',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  globalSetup: '<rootDir>/src/tally-setup.ts',
  globalTeardown: '<rootDir>/src/tally-teardown.ts',
};
