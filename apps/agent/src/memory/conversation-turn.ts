import type { HistoryMessage } from '@quarry/contracts';
import { parseSourcesOf } from './cited-sources';

/**
 * One exchange of a conversation: the question, the answer, and the documents the answer cited
 * (what a follow-up question most likely asks about again).
 */
export interface ConversationTurn {
  question: string;
  /** The answer's text, without a trailing sources list. */
  answer: string;
  /** Cited documents' ids, first cited first, no repeats (empty when not known). */
  citedDocumentIds: string[];
  /** Cited documents' file names, first cited first, no repeats. */
  citedFilenames: string[];
}

/** A stored message as the conversation repository reads it (MessageEntity's fields that matter). */
export interface StoredMessage {
  role: 'user' | 'assistant';
  content: string;
  /** The Citation objects of an answer (documentId, filename, …); anything else is ignored. */
  citations: readonly unknown[];
}

function distinct(values: Iterable<string>): string[] {
  return [...new Set(values)].filter((value) => value.length > 0);
}

function citedOf(citations: readonly unknown[]): { citedDocumentIds: string[]; citedFilenames: string[] } {
  const ids: string[] = [];
  const names: string[] = [];
  for (const citation of citations) {
    if (!citation || typeof citation !== 'object') continue;
    const { documentId, filename } = citation as { documentId?: unknown; filename?: unknown };
    if (typeof documentId === 'string') ids.push(documentId);
    if (typeof filename === 'string') names.push(filename);
  }
  return { citedDocumentIds: distinct(ids), citedFilenames: distinct(names) };
}

/**
 * Pairs each question with the answer that follows it. A question without an answer (the last
 * one, when the history ends on it) becomes a turn with an empty answer; an answer without a
 * question before it (a history that starts mid-way) a turn with an empty question.
 */
function pair<M extends { role: 'user' | 'assistant' }>(messages: readonly M[], turnOf: (question: M | undefined, answer: M | undefined) => ConversationTurn): ConversationTurn[] {
  const turns: ConversationTurn[] = [];
  let pending: M | undefined;
  for (const message of messages) {
    if (message.role === 'user') {
      if (pending) turns.push(turnOf(pending, undefined));
      pending = message;
    } else {
      turns.push(turnOf(pending, message));
      pending = undefined;
    }
  }
  if (pending) turns.push(turnOf(pending, undefined));
  return turns;
}

/** Turns from the stored messages (oldest first): the citations are the stored ones. */
export function turnsFromMessages(messages: readonly StoredMessage[]): ConversationTurn[] {
  return pair(messages, (question, answer) => ({
    question: question?.content ?? '',
    answer: answer?.content ?? '',
    ...citedOf(answer?.citations ?? []),
  }));
}

/**
 * Turns from a client-held history (the OpenAI-compatible API sends text only): the cited sources
 * are read from the answer's "Sources:" list, keeping those its [n] markers cite when it has any.
 */
export function turnsFromHistory(history: readonly HistoryMessage[]): ConversationTurn[] {
  return pair(history, (question, answer) => {
    const parsed = parseSourcesOf(answer?.content ?? '');
    return { question: question?.content ?? '', answer: parsed.text, citedDocumentIds: parsed.documentIds, citedFilenames: parsed.filenames };
  });
}

/** The turns as chat history messages, oldest first. */
export function historyOfTurns(turns: readonly ConversationTurn[]): HistoryMessage[] {
  return turns.flatMap((turn) => [
    ...(turn.question ? [{ role: 'user' as const, content: turn.question }] : []),
    ...(turn.answer ? [{ role: 'assistant' as const, content: turn.answer }] : []),
  ]);
}
