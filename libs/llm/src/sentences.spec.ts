import { splitIntoSentences, truncateAtWord } from './sentences';

describe('splitIntoSentences', () => {
  it('splits at terminal punctuation followed by a new sentence', () => {
    expect(splitIntoSentences('First one. Second one! Third one? "Quoted." Last')).toEqual([
      'First one.',
      'Second one!',
      'Third one?',
      '"Quoted."',
      'Last',
    ]);
  });

  it('does not split inside abbreviations followed by lower case or inside numbers', () => {
    expect(splitIntoSentences('Use tools, e.g. a hammer. Version 3.5 is out.')).toEqual(['Use tools, e.g. a hammer.', 'Version 3.5 is out.']);
  });

  it('joins hard-wrapped lines but separates paragraphs, headings and list items', () => {
    const text = '# Setup\nInstall the package\nwith npm. Then run it.\n\n- first item\n- second item\n1. numbered';
    expect(splitIntoSentences(text)).toEqual(['Setup', 'Install the package with npm.', 'Then run it.', 'first item', 'second item', 'numbered']);
  });
});

describe('truncateAtWord', () => {
  it('leaves short sentences alone and cuts long ones at a word boundary with an ellipsis', () => {
    expect(truncateAtWord('short', 10)).toBe('short');
    expect(truncateAtWord('alpha beta gamma delta', 13)).toBe('alpha beta…');
  });
});
