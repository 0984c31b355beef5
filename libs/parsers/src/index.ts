export { detectFormat } from './lib/detect';
export { parseDocument, parseWorkerCount, shutdownParsers } from './lib/parse-document';
export {
  ENCRYPTED_OOXML_MEDIA_TYPE,
  MEDIA_TYPES,
  PARSE_DEFAULTS,
  type DetectedFormat,
  type DocumentFormat,
  type ParseOptions,
  type ParsedDocument,
  type ParsedSection,
} from './lib/types';
