import { HeadingOutline } from './heading-outline';

describe('HeadingOutline', () => {
  const at = (text: string, needle: string) => new HeadingOutline(text).pathAt(text.indexOf(needle));

  it('has no path before the first heading or in a text without headings', () => {
    expect(at('intro\n# Title\nbody', 'intro')).toEqual([]);
    expect(new HeadingOutline('just text\nmore text').pathAt(5)).toEqual([]);
    expect(new HeadingOutline('').pathAt(0)).toEqual([]);
  });

  it('nests deeper headings under shallower ones, outermost first', () => {
    const text = '# Guide\nintro\n## Install\nsteps\n### Linux\napt\n#### Debian\ndpkg';
    expect(at(text, 'intro')).toEqual(['Guide']);
    expect(at(text, 'steps')).toEqual(['Guide', 'Install']);
    expect(at(text, 'apt')).toEqual(['Guide', 'Install', 'Linux']);
    expect(at(text, 'dpkg')).toEqual(['Guide', 'Install', 'Linux', 'Debian']);
  });

  it('lets a sibling or shallower heading replace the deeper path', () => {
    const text = '# Guide\n## Install\n### Linux\nlinux text\n### macOS\nmac text\n## Usage\nusage text\n# Appendix\nappendix text';
    expect(at(text, 'linux text')).toEqual(['Guide', 'Install', 'Linux']);
    expect(at(text, 'mac text')).toEqual(['Guide', 'Install', 'macOS']);
    expect(at(text, 'usage text')).toEqual(['Guide', 'Usage']);
    expect(at(text, 'appendix text')).toEqual(['Appendix']);
  });

  it('keeps skipped levels out of the path', () => {
    const text = '# A\n### C\nc text\n## B\nb text';
    expect(at(text, 'c text')).toEqual(['A', 'C']);
    expect(at(text, 'b text')).toEqual(['A', 'B']);
  });

  it('includes a heading from its own first character on', () => {
    const text = 'before\n## Section\nafter';
    const outline = new HeadingOutline(text);
    const offset = text.indexOf('## Section');
    expect(outline.pathAt(offset - 1)).toEqual([]);
    expect(outline.pathAt(offset)).toEqual(['Section']);
  });

  it('reads titles the way Markdown does', () => {
    const titles = (text: string) => new HeadingOutline(text).pathAt(text.length);
    expect(titles('##   Spaced title   \n')).toEqual(['Spaced title']);
    expect(titles('## Closed title ##\n')).toEqual(['Closed title']);
    expect(titles('# Learning C#\n')).toEqual(['Learning C#']);
    expect(titles('# Windows\r\n## Line endings\r\ntext\r\n')).toEqual(['Windows', 'Line endings']);
    // Not headings: no space after the marks, seven marks, an empty title.
    expect(titles('#hashtag\n####### seven\n#\n')).toEqual([]);
  });

  it('ignores heading-like lines inside fenced code blocks', () => {
    const text = [
      '# Setup',
      '```bash',
      '# install the dependencies',
      'npm ci',
      '```',
      'after the code',
      '~~~~',
      '## not a heading either',
      '```',
      '~~~~',
      '## Run',
      'run text',
    ].join('\n');
    expect(at(text, 'after the code')).toEqual(['Setup']);
    expect(at(text, 'run text')).toEqual(['Setup', 'Run']);
  });
});
