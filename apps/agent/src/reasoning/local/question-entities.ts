import { isStopWord } from '@quarry/domain';

// Finding what a question is about without a model: names (runs of capitalised words), and
// failing that the phrases on either side of a connector ("X and Y", "X vs Y", "X than Y").

/** Words that start questions or are capitalised for other reasons: never a name on their own. */
const NOT_NAMES = new Set([
  'how', 'what', 'which', 'who', 'whom', 'whose', 'when', 'where', 'why', 'is', 'are', 'was', 'were', 'do', 'does', 'did',
  'can', 'could', 'should', 'would', 'will', 'list', 'compare', 'give', 'tell', 'show', 'name', 'find', 'the', 'a', 'an',
  'in', 'on', 'of', 'and', 'or', 'vs', 'versus', 'than', 'between', 'i', 'we', 'please', 'total', 'sum', 'average',
]);
const CONNECTOR = /\s*(?:,\s*(?:and\s+)?|\band\b|\bor\b|\bvs\.?|\bversus\b|\bthan\b|\bcompared\s+(?:to|with)\b|\bagainst\b)\s*/i;
const NAME_WORD = /^[\p{Lu}][\p{L}\p{N}&.'-]*$|^[\p{N}]+[\p{L}]+$/u;

/** Runs of capitalised words ("Acme Corp", "Globex"), in order, without duplicates. */
export function namedEntities(question: string): string[] {
  const words = question.replace(/[?!.,;:()"]/g, ' $& ').split(/\s+/).filter(Boolean);
  const names: string[] = [];
  let run: string[] = [];
  const close = () => {
    if (run.length > 0) names.push(run.join(' '));
    run = [];
  };
  for (const word of words) {
    if (NAME_WORD.test(word) && !NOT_NAMES.has(word.toLowerCase())) run.push(word);
    else close();
  }
  close();
  return [...new Set(names)];
}

/** The phrases a connector joins, each trimmed of leading/trailing stop words ("the", "of"). */
export function connectedPhrases(clause: string): string[] {
  return clause
    .split(CONNECTOR)
    .map((phrase) => trimStopWords(phrase))
    .filter((phrase) => phrase.length > 0);
}

function trimStopWords(phrase: string): string {
  const words = phrase.replace(/[?!.;:()"]/g, ' ').split(/\s+/).filter(Boolean);
  while (words.length > 0 && isStopWord(words[0].toLowerCase())) words.shift();
  while (words.length > 0 && isStopWord(words[words.length - 1].toLowerCase())) words.pop();
  return words.join(' ');
}

/** The question's content words that are neither part of an entity nor in `exclude`, in order. */
export function remainingTerms(question: string, entities: string[], exclude: ReadonlySet<string>): string[] {
  const entityWords = new Set(entities.flatMap((entity) => entity.toLowerCase().split(/\s+/)));
  return question
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s'-]/gu, ' ')
    .split(/\s+/)
    .filter((word) => word.length > 1 && !isStopWord(word) && !entityWords.has(word) && !exclude.has(word) && !NOT_NAMES.has(word));
}
