module.exports = { displayName: 'parsers', preset: '../../jest.preset.js', rootDir: __dirname };
