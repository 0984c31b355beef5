// The package ships plain CommonJS without typings: `module.exports = stem`.
declare module 'wink-porter2-stemmer' {
  /** Porter2 ("English") stem of one word; lowercases its input, returns words under 3 chars as they are. */
  function stem(word: string): string;
  export = stem;
}
