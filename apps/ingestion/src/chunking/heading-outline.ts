interface Heading {
  offset: number;
  level: number;
  title: string;
}

// An optional closing sequence of "#" counts only after whitespace: "# Learning C#" keeps its "#".
const ATX_HEADING = /^(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LINE = /^.*$/gm;

/** The Markdown headings of a text with their offsets, to give each chunk its heading path. */
export class HeadingOutline {
  private readonly headings: Heading[] = [];

  constructor(text: string) {
    // Lines inside fenced code blocks are code, not headings (a shell comment "# install" is not one).
    let fence: string | undefined;
    for (const line of text.matchAll(LINE)) {
      const marker = FENCE.exec(line[0])?.[1];
      if (fence) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length && line[0].trim() === marker) fence = undefined;
        continue;
      }
      if (marker) {
        fence = marker;
        continue;
      }
      const heading = ATX_HEADING.exec(line[0]);
      if (heading) this.headings.push({ offset: line.index, level: heading[1].length, title: heading[2].trim() });
    }
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
