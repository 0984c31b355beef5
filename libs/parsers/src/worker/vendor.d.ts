// Typings for the parts of untyped modules the parse worker uses.

/** pdf.js's worker code; loaded into the parse worker's own thread (`globalThis.pdfjsWorker`). */
declare module 'pdfjs-dist/legacy/build/pdf.worker.mjs' {
  export const WorkerMessageHandler: unknown;
}

/**
 * Mammoth's numbering reader (mammoth 1.13, lib/docx/numbering-xml.js). Its `readNumberingXml` is
 * looked up on the module object at each call, so wrapping it adds the numId to each paragraph's
 * numbering.
 */
declare module 'mammoth/lib/docx/numbering-xml.js' {
  interface NumberingLevel {
    isOrdered: boolean;
    level: string;
    paragraphStyleId?: string;
  }
  interface Numbering {
    findLevel(numId: string, level: string): NumberingLevel | null;
    findLevelByParagraphStyleId(styleId: string): NumberingLevel | null;
  }
  const numberingXml: {
    readNumberingXml: (root: unknown, options: unknown) => Numbering;
  };
  export default numberingXml;
}
