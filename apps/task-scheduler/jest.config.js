module.exports = { displayName: 'task-scheduler', preset: '../../jest.preset.js', rootDir: __dirname };
