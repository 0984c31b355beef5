/**
 * What every generator says when the passages do not support an answer. One shared sentence so the
 * UI and evaluations can recognise an honest "not found" whichever generator produced it.
 */
export const NO_ANSWER_TEXT = 'I could not find an answer to that in your documents.';
