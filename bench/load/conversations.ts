/**
 * The realistic mix the benchmark sends to Kalata's Africa's Talking webhook:
 * what callers do on an election day, on the real flows. Each request's
 * answer is checked against what that screen must show, so a fast wrong
 * answer (an apology, a lost session) counts as an error, not as throughput.
 *
 * One cycle is five calls: two voting-info calls that page with 98, one in
 * Bambara, one for help, and one fraud report with free text (which files a
 * report, queues an SMS and answers with a reference).
 */
export interface Conversation {
  name: string;
  /** what the caller types, turn by turn (the first request has none) */
  inputs: string[];
  /** what each answer must match: the first screen, then one per input */
  expect: RegExp[];
}

const LANGUAGE = /^CON Kalata\. Langue \/ Kan:/;
const HOME_FR = /^CON Kalata: infos sur le vote\n/;

export const CONVERSATIONS: Conversation[] = [
  {
    name: 'vote-more',
    inputs: ['1', '1', '3', '98', '1'],
    expect: [LANGUAGE, HOME_FR, /^CON Comment voter\n/, /^CON Les bureaux sont ouverts[\s\S]*\n98\. Suite$/, /^CON dans l'urne\./, /^CON [\s\S]*dépouillement/],
  },
  {
    name: 'bambara',
    inputs: ['2', '1', '2'],
    expect: [LANGUAGE, /^CON Kalata\n1\. Wote cogo\n/, /^CON Wote cogo\n/, /^CON Wote don/],
  },
  {
    name: 'help',
    inputs: ['1', '4'],
    expect: [LANGUAGE, HOME_FR, /^CON Kalata /],
  },
  {
    name: 'vote-more',
    inputs: ['1', '1', '3', '98', '1'],
    expect: [LANGUAGE, HOME_FR, /^CON Comment voter\n/, /^CON Les bureaux sont ouverts[\s\S]*\n98\. Suite$/, /^CON dans l'urne\./, /^CON [\s\S]*dépouillement/],
  },
  {
    name: 'report',
    inputs: ['1', '2', '1', '1', '1', '1', 'Kati, école du centre', 'Achat de cartes devant le bureau', '1'],
    expect: [
      LANGUAGE,
      HOME_FR,
      /^CON Signaler une fraude/,
      /^CON Un SMS de confirmation\?/,
      /^CON Type d'incident:/,
      /^CON Région:/,
      /^CON Lieu /,
      /^CON Décrivez /,
      /^CON Envoyer ce signalement\? Achat de votes, District de Bamako\./,
      /^END Merci\. Votre référence: KA-[A-Z0-9]{7}\./,
    ],
  },
];

/**
 * A plain information call (setup i): the language, the home menu, « Comment
 * voter », its first screen. Four requests, no report, no SMS.
 */
export const INFO_CONVERSATIONS: Conversation[] = [
  {
    name: 'info',
    inputs: ['1', '1', '3'],
    expect: [LANGUAGE, HOME_FR, /^CON Comment voter\n/, /^CON Les bureaux sont ouverts/],
  },
];

/** One request of the cycle, flattened: which call, which turn. */
export interface Turn {
  conversation: Conversation;
  /** 0: the call's first request */
  index: number;
}

export const TURNS: Turn[] = CONVERSATIONS.flatMap((conversation) =>
  conversation.expect.map((_, index) => ({ conversation, index })),
);

/** The Africa's Talking `text` for a turn: every input so far, joined with `*`. */
export function atText(turn: Turn): string {
  return turn.conversation.inputs.slice(0, turn.index).join('*');
}

export const INFO_TURNS: Turn[] = INFO_CONVERSATIONS.flatMap((conversation) => conversation.expect.map((_, index) => ({ conversation, index })));

export const STEPS_PER_CYCLE = TURNS.length;
export const CALLS_PER_CYCLE = CONVERSATIONS.length;
export const REPORTS_PER_CYCLE = CONVERSATIONS.filter((c) => c.name === 'report').length;

/**
 * The voice line's mix (setup v): Africa's Talking voice callbacks on the same
 * flows. An input is the keys pressed (`dtmfDigits`, a list ending with `#`),
 * or `rec:` and a recording's address (`recordingUrl`). Each answer is AT's
 * XML, checked for what that screen must say.
 */
export const VOICE_CONVERSATIONS: Conversation[] = [
  {
    name: 'voice-vote',
    inputs: ['1', '1', '3'],
    expect: [/<GetDigits[^>]*><Say[^>]*>[^<]*Français, tapez un\./, /Comment voter, tapez un\./, /<Say[^>]*>Comment voter[^<]*tapez un\./, /<Say[^>]*>Les bureaux sont ouverts/],
  },
  {
    name: 'voice-report',
    inputs: ['1', '2', '1', '2', '1#', '1#', 'rec:https://voice.africastalking.com/rec/place.mp3', 'rec:https://voice.africastalking.com/rec/description.mp3', '1'],
    expect: [
      /Français, tapez un\./,
      /Comment voter, tapez un\./,
      /<Say[^>]*>Signaler une fraude/,
      /<Say[^>]*>Un SMS de confirmation\?/,
      /<Say[^>]*>Type d'incident:[^<]*puis dièse/,
      /<Say[^>]*>Région:/,
      /<Record [^>]*><Say[^>]*>Lieu /,
      /<Record [^>]*><Say[^>]*>Décrivez /,
      /<Say[^>]*>Envoyer ce signalement\? Achat de votes District de Bamako\./,
      /<Say[^>]*>Merci\. Votre référence: K A /,
    ],
  },
];

export const VOICE_TURNS: Turn[] = VOICE_CONVERSATIONS.flatMap((conversation) => conversation.expect.map((_, index) => ({ conversation, index })));

/** The form fields of a voice turn beside the call's own: the keys pressed, or a recording (none on the first). */
export function voiceFields(turn: Turn): Record<string, string> {
  if (turn.index === 0) return {};
  const input = turn.conversation.inputs[turn.index - 1]!;
  return input.startsWith('rec:') ? { recordingUrl: input.slice(4) } : { dtmfDigits: input };
}
