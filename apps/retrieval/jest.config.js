module.exports = { displayName: 'retrieval', preset: '../../jest.preset.js', rootDir: __dirname };
