export { type ConversationTurn, type StoredMessage, historyOfTurns, turnsFromHistory, turnsFromMessages } from './conversation-turn';
export { type ParsedSources, parseSourcesOf } from './cited-sources';
export { type ConversationMessagesReader, loadHistory, loadTurns } from './load-history';
export { type CompressedHistory, type CompressedTurn, type TurnForm, MESSAGE_OVERHEAD_TOKENS, compressHistory } from './compress-history';
export { type FollowUpResolution, resolveFollowUp } from './resolve-follow-up';
export { FOLLOW_UP_REWRITE_SYSTEM_PROMPT, type ModelFollowUpOptions, parseRewrittenQuestion, rewriteFollowUpWithModel } from './model-follow-up';
export { type ContentWord, type WeightedText, contentWords, salientTerms } from './salient-terms';
export { type TokenCounter, countTokens } from './token-count';
