/**
 * Who has the floor: the turn-taking rules of the conversation as pure decisions, so they can be
 * read in one place and tested one rule at a time.
 *
 * - The caller takes the floor (BARGE_IN_MS of voice, an inbound `clear`, a keypad digit):
 *   a reply that has made a sound is interrupted; a reply still silent (transcribing, thinking,
 *   calling a tool) is merged into the caller's next words when the caller goes on speaking,
 *   because a pause mid-sentence is not the end of a turn; audio that belongs to no turn (the
 *   greeting, an idle prompt) is cleared. A locked turn (the goodbye) is never interrupted.
 * - An utterance ends: while the bot is busy, one too short to take the floor is a backchannel
 *   ("haan", "hmm") or noise and is ignored; otherwise it is answered. While the call is
 *   closing nothing is answered.
 */

export type FloorTaker = 'speech' | 'dtmf' | 'clear';

/** The bot's side at the moment the caller takes the floor. */
export interface BotActivity {
  /** The turn being answered, if any. */
  turn?: {
    /** Some of its audio has gone to the caller. */
    audioStarted: boolean;
    /** It is closing the call: nothing interrupts it. */
    locked: boolean;
  };
  /** Audio is queued or playing (any utterance). */
  outputSpeaking: boolean;
  /** The call is ending: the goodbye plays out whatever the caller does. */
  closing: boolean;
}

export type FloorDecision =
  /** Stop the reply (clear the audio, abort its requests), keep what was heard. */
  | 'interrupt'
  /** Drop the silent reply; its words are carried into the caller's next turn. */
  | 'merge'
  /** Stop audio that belongs to no turn. */
  | 'clear-output'
  | 'keep';

export function callerTakesFloor(by: FloorTaker, bot: BotActivity): FloorDecision {
  if (bot.closing || bot.turn?.locked) return 'keep';
  if (bot.turn) {
    if (bot.turn.audioStarted) return 'interrupt';
    // Keys and a bridge's `clear` do not continue a sentence; the keypad input merges when it
    // is complete (see `keypadInput`).
    return by === 'speech' ? 'merge' : 'keep';
  }
  return bot.outputSpeaking ? 'clear-output' : 'keep';
}

/** What to do with a finished utterance: answer it, or let it pass as a backchannel. */
export function utteranceEnded(u: { bargedIn: boolean }, bot: BotActivity): 'answer' | 'ignore' {
  if (bot.closing || bot.turn?.locked) return 'ignore';
  const busy = bot.turn !== undefined || bot.outputSpeaking;
  return busy && !u.bargedIn ? 'ignore' : 'answer';
}

/** Keypad input is complete: it interrupts whatever is playing and takes over a silent turn. */
export function keypadInput(bot: BotActivity): FloorDecision {
  if (bot.closing || bot.turn?.locked) return 'keep';
  if (bot.turn) return bot.turn.audioStarted ? 'interrupt' : 'merge';
  return bot.outputSpeaking ? 'clear-output' : 'keep';
}
