/**
 * The engine's contracts: a compiled flow graph, a session, and what one step
 * returns. Everything here is plain data (the text lookup is a pure function),
 * so sessions serialize to JSON and steps can be replayed in tests.
 */
import type { Encoding, ScreenLimits } from '../i18n/gsm.js';

/**
 * A language's code (`fr`, `bm`, ...). The set is data (flows/languages.yaml,
 * src/i18n/languages.ts), carried by the compiled flows: the engine never
 * names a language.
 */
export type Lang = string;

/** A text key, `namespace:key`, resolved by the flow's text lookup. */
export type TextKey = string;

/** Resolves a key in a language with variables. Pure and total: never throws. */
export type TextLookup = (lang: Lang, key: TextKey, vars?: Record<string, string>) => string;

/**
 * What a report keeps of the caller's number, as the caller chose:
 * `sms` the encrypted number, for the discreet SMS and a follow-up;
 * `no_sms` only the keyed pseudonym (STATUT works from this phone);
 * `no_number` nothing: no pseudonym, no link to the call (STATUT from any phone).
 */
export type ReportContact = 'sms' | 'no_sms' | 'no_number';
export const REPORT_CONTACTS: readonly ReportContact[] = ['sms', 'no_sms', 'no_number'];

export type EffectSpec =
  | { type: 'save_report'; fields: readonly string[]; contact: ReportContact }
  /** `vars`: answers a lookup set, copied into the message (never what the caller typed) */
  | { type: 'send_sms'; template: TextKey; vars: readonly string[] }
  /**
   * the caller asks to be called back by an adviser (on an end node);
   * `topic`: the field of a choice answer saying what about, if the flow asks
   */
  | { type: 'request_callback'; topic?: string };

export interface Validation {
  min: number;
  max: number;
  digits: boolean;
  pattern?: RegExp;
}

interface NodeBase {
  /** fully qualified id: `flow.node` */
  readonly id: string;
  readonly flow: string;
  readonly text: TextKey;
  /** effects run (as data) when the caller arrives here */
  readonly effects: readonly EffectSpec[];
  /** back/home navigation offered on this node */
  readonly nav: boolean;
}

export interface MenuOption {
  readonly label: TextKey;
  readonly next: string;
  readonly language?: Lang;
}

export interface MenuNode extends NodeBase {
  readonly kind: 'menu';
  readonly options: readonly MenuOption[];
}
export interface InfoNode extends NodeBase {
  readonly kind: 'info';
  /** when set, the last page offers `1` to go on */
  readonly next?: string;
  readonly continueLabel: TextKey;
}
export interface InputNode extends NodeBase {
  readonly kind: 'input';
  readonly save: string;
  /** what is typed here is never recorded (a NINA number): call steps keep only that something was typed */
  readonly private: boolean;
  readonly validate: Validation;
  readonly error: TextKey;
  readonly next: string;
}
export interface ChoiceItem {
  readonly value: string;
  readonly label: TextKey;
  /** choosing it keeps the rest of the call out of the records (what is typed and shown) */
  readonly private?: boolean;
}
export interface ChoiceNode extends NodeBase {
  readonly kind: 'choice';
  readonly save: string;
  readonly items: readonly ChoiceItem[];
  readonly next: string;
}
export interface ConfirmNode extends NodeBase {
  readonly kind: 'confirm';
  readonly yes: string;
  readonly no: string;
  readonly yesLabel: TextKey;
  readonly noLabel: TextKey;
}
export interface EndNode extends NodeBase {
  readonly kind: 'end';
}
/** A choice among items the shell looks up (regions, communes, polling centres). */
export interface PickNode extends NodeBase {
  readonly kind: 'pick';
  readonly source: string;
  /** answers passed to the source, in order */
  readonly params: readonly string[];
  readonly save: string;
  readonly next: string;
  /** where to go when the source has nothing */
  readonly empty: string;
}
/** A question the shell answers from its data; the caller never sees this node. */
export interface LookupNode extends NodeBase {
  readonly kind: 'lookup';
  readonly source: string;
  readonly params: readonly string[];
  readonly found: string;
  readonly notFound: string;
  /** answers dropped once looked up: a NINA number must not stay in the session */
  readonly forget: readonly string[];
}

/** Goes on by an answer given earlier; the caller never sees this node. */
export interface BranchNode extends NodeBase {
  readonly kind: 'branch';
  readonly on: string;
  /** answer value -> node */
  readonly cases: Readonly<Record<string, string>>;
  /** where any other answer (or none) goes */
  readonly otherwise: string;
}

export type FlowNode = BranchNode | MenuNode | InfoNode | InputNode | ChoiceNode | ConfirmNode | EndNode | PickNode | LookupNode;

/** One item of a looked-up list: the value saved, the label shown. */
export interface PickedItem {
  readonly value: string;
  readonly label: string;
}

/** What the engine asks the shell to look up, in the middle of a step. */
export interface LookupRequest {
  readonly node: string;
  readonly source: string;
  readonly params: Readonly<Record<string, string>>;
  readonly lang: Lang;
}

/** The shell's answer, handed back with `answerLookup`. */
export type LookupAnswer =
  | { readonly kind: 'items'; readonly items: readonly PickedItem[] }
  | { readonly kind: 'found'; readonly values: Readonly<Record<string, string>> }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'failed' };
export type NodeKind = FlowNode['kind'];

/** Keys of the texts the engine itself uses (namespace `common`). */
export interface CommonTexts {
  more: TextKey;
  backHome: TextKey;
  invalid: TextKey;
  /**
   * what 98 on a last page says (there is no next page); flows compiled
   * without it show the invalid-choice notice instead
   */
  noMore?: TextKey;
  tooManyInvalid: TextKey;
  /** the apology when the flow cannot go on (a node missing from this version) */
  unavailable: TextKey;
  /** the answer to a request that belongs to a call already over or lost */
  sessionOver: TextKey;
  /** the offer made to a caller whose previous call dropped: continue or start again */
  resumePrompt: TextKey;
  resumeContinue: TextKey;
  resumeRestart: TextKey;
  /** the polite END for a number or an address over its request limit */
  rateLimited: TextKey;
  /**
   * how a screen names an answer given as a recording (a description said
   * on the voice line): never the recording's address
   */
  recorded?: TextKey;
}

/** A validated, compiled set of flows: one immutable graph with O(1) node lookup. */
export interface CompiledFlows {
  /** hash of every flow file, locale and variable that went into it */
  readonly hash: string;
  readonly nodes: ReadonlyMap<string, FlowNode>;
  /** flow id -> its start node */
  readonly starts: ReadonlyMap<string, string>;
  readonly entryFlow: string;
  /** the node the caller lands on once the language is known */
  readonly home: string;
  /** the language menu */
  readonly languageNode: string;
  /** the languages callers can have, in menu order; the first is the source */
  readonly languages: readonly Lang[];
  readonly texts: TextLookup;
  readonly common: CommonTexts;
  readonly limits: ScreenLimits;
  /** field -> value -> label key, to show a choice answer in words */
  readonly choiceLabels: ReadonlyMap<string, ReadonlyMap<string, TextKey>>;
  readonly maxInvalid: number;
  /**
   * field -> the values that make the rest of a call private (`private: true`
   * choice items): once chosen, the records keep neither inputs nor screens
   */
  readonly privateAnswers?: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * a text as its locale file holds it, before the admin variables are filled
   * in (the voice line says a text in parts, a recording each); absent in
   * flows built by hand
   */
  readonly rawText?: (lang: Lang, key: TextKey) => string | undefined;
  /** the admin variables' values by language, for the parts rawText leaves out */
  readonly variables?: Readonly<Record<Lang, Readonly<Record<string, string>>>>;
  /** the recorded prompts, `<lang>/<ref>` → media id (src/flows/recordings.ts) */
  readonly recordings?: ReadonlyMap<string, string>;
  /** the voice line's settings (flows/voice.yaml): when advisers answer, and where */
  readonly voice?: {
    readonly adviser?: {
      readonly numbers: readonly string[];
      readonly time_zone: string;
      readonly hours: readonly { readonly days: readonly string[]; readonly from: string; readonly to: string }[];
      readonly max_minutes: number;
    };
  };
  /** per language, how many prompts the voice line needs and how many are recorded */
  readonly recordingCoverage?: ReadonlyMap<Lang, { readonly needed: number; readonly have: number }>;
}

export type Outcome = 'completed' | 'too_many_invalid' | 'abandoned' | 'error';

/** Why the step stayed on the page: an invalid input, or 98 on the last page. */
export type Notice = 'invalid' | 'no_more';

/** A caller's position in the flows. Plain JSON. */
export interface Session {
  readonly v: 1;
  readonly id: string;
  readonly flowHash: string;
  readonly lang: Lang;
  readonly node: string;
  readonly page: number;
  /** nodes to go back to, most recent last */
  readonly trail: readonly string[];
  readonly answers: Readonly<Record<string, string>>;
  /** the answers given as a recording (their value is the recording's URL), by field */
  readonly recorded?: readonly string[];
  /** invalid inputs in a row on the current node (moving on, or to another page, starts again) */
  readonly invalid: number;
  /** the notice shown over the current page, for this screen only: the next step drops it */
  readonly notice?: Notice;
  /** the reference number minted by the shell for anything this call files */
  readonly ref: string;
  readonly ended: boolean;
  readonly outcome?: Outcome;
  /** a dropped call this caller may continue: offered on the first screen */
  readonly resume?: ResumePoint;
  /** the items of the pick node the caller is on, as the shell looked them up */
  readonly picked?: { readonly node: string; readonly items: readonly PickedItem[] };
  /** epoch ms of the first and the latest step, from the `now` the shell passes in */
  readonly startedAt: number;
  readonly updatedAt: number;
}

export interface Screen {
  readonly text: string;
  /** true: the gateway closes the session (`END`) */
  readonly end: boolean;
  readonly encoding: Encoding;
  readonly length: number;
}

export type Effect =
  | { type: 'set_language'; lang: Lang }
  /** `recorded`: the fields answered with a recording (the voice line): their value is its URL */
  | { type: 'save_report'; ref: string; lang: Lang; fields: Record<string, string>; contact: ReportContact; recorded?: readonly string[] }
  | { type: 'send_sms'; ref: string; lang: Lang; template: TextKey; vars: Record<string, string> }
  /** a call-back request: the shell keeps the number (encrypted) for an adviser, at most one waiting per number */
  | { type: 'request_callback'; ref: string; lang: Lang; topic: string | null };

export type EngineEvent =
  | { type: 'entered'; node: string }
  | { type: 'paged'; node: string; page: number }
  | { type: 'invalid'; node: string }
  | { type: 'looked_up'; node: string; source: string; outcome: LookupAnswer['kind'] }
  | { type: 'ended'; node: string; outcome: Outcome };

export interface StepResult {
  readonly session: Session;
  readonly screen: Screen;
  readonly effects: readonly Effect[];
  readonly events: readonly EngineEvent[];
  /**
   * Set when the step needs data: the screen is not ready, and the shell must
   * call `answerLookup` with the answer (see runtime/lookups.ts).
   */
  readonly lookup?: LookupRequest;
}

/** Where a dropped call stood: enough to put the caller back there. */
export type ResumePoint = Pick<Session, 'node' | 'page' | 'trail' | 'answers' | 'lang' | 'ref'>;

export interface StartOptions {
  id: string;
  ref: string;
  lang: Lang;
  /** the caller chose a language on an earlier call: skip the language menu */
  languageKnown: boolean;
  /** start this flow instead of the entry flow (simulator, tests) */
  flow?: string;
  /** offer to continue this dropped call first */
  resume?: ResumePoint;
}
