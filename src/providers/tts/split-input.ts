/**
 * OpenAI's speech endpoint takes at most 4096 characters of input. Longer text (an operator's
 * long greeting, a model that never ends a sentence) is said in pieces: cut at the last sentence
 * end before the limit, else the last space, else hard. Pure.
 */

export const MAX_TTS_INPUT_CHARS = 4096;

export function splitTtsInput(text: string, max = MAX_TTS_INPUT_CHARS): string[] {
  const pieces: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = Math.max(
      ...['. ', '? ', '! ', '। ', '॥ ', '\n'].map((end) => {
        const at = window.lastIndexOf(end);
        return at < 0 ? -1 : at + end.trimEnd().length;
      }),
    );
    if (cut <= max / 2) cut = window.lastIndexOf(' ');
    if (cut <= 0) cut = max;
    // Never leave half of a surrogate pair at the end of a piece.
    if (/[\uD800-\uDBFF]/.test(rest[cut - 1] ?? '')) cut -= 1;
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) pieces.push(rest);
  return pieces;
}
