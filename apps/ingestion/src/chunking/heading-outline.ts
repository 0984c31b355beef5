interface Heading {
  offset: number;
  level: number;
  title: string;
}

const ATX_HEADING = /^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$/gm;

/** The Markdown headings of a text with their offsets, to give each chunk its heading path. */
export class HeadingOutline {
  private readonly headings: Heading[];

  constructor(text: string) {
    this.headings = [...text.matchAll(ATX_HEADING)].map((match) => ({
      offset: match.index,
      level: match[1].length,
      title: match[2].trim(),
    }));
  }

  /** Titles of the headings that enclose `offset`, outermost first. */
  pathAt(offset: number): string[] {
    const stack: Heading[] = [];
    for (const heading of this.headings) {
      if (heading.offset > offset) break;
      while (stack.length > 0 && stack[stack.length - 1].level >= heading.level) stack.pop();
      stack.push(heading);
    }
    return stack.map((heading) => heading.title);
  }
}
