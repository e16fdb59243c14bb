/**
 * The shape of a flow file (`flows/*.yaml`), the second layer of validation
 * after YAML syntax. References between nodes are checked later, in
 * `flow-validator.ts`.
 */
import { z } from 'zod';
import { languageCode } from '../i18n/languages.js';

const nodeId = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a node id is lowercase letters, digits and _');
/** `node` in the same flow, or `flow.node` in another */
const target = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/, 'a target is `node` or `flow.node`');
/** `key` in the flow's namespace, or `namespace:key` */
const textKey = z.string().regex(/^([a-z][a-z0-9_]*:)?[a-z][a-zA-Z0-9_.]*$/, 'a text key is `key` or `namespace:key`');
/** a code of flows/languages.yaml (the validator checks it is one) */
const language = languageCode;

const effect = z.union([
  z.strictObject({
    save_report: z.strictObject({
      fields: z.array(z.string().min(1)).min(1),
      /** what the report keeps of the caller's number (default `sms`: the encrypted number) */
      contact: z.enum(['sms', 'no_sms', 'no_number']).optional(),
    }),
  }),
  // `vars`: values a lookup found (never what the caller typed), for the template.
  z.strictObject({ send_sms: z.strictObject({ template: textKey, vars: z.array(nodeId).optional() }) }),
  // On an end node: keep the caller's number (encrypted) for an adviser to call back.
  // `topic`: a choice's field saying what about (its value only, never typed text).
  z.strictObject({ request_callback: z.strictObject({ topic: nodeId.optional() }) }),
]);

const base = {
  text: textKey,
  effects: z.array(effect).optional(),
  nav: z.boolean().optional(),
};

const choiceItem = z.strictObject({
  value: z.string().regex(/^[a-z0-9_]+$/),
  label: textKey,
  /** choosing it keeps the rest of the call out of the records: neither what is typed nor what is shown */
  private: z.boolean().optional(),
});

export const nodeSchema = z.discriminatedUnion('type', [
  z.strictObject({
    ...base,
    type: z.literal('menu'),
    options: z
      .array(z.strictObject({ label: textKey, next: target, language: language.optional() }))
      .min(1)
      .max(9, 'a menu has at most 9 options (0, 00, 98 and 99 are navigation)'),
  }),
  z.strictObject({ ...base, type: z.literal('info'), next: target.optional(), continue: textKey.optional() }),
  z.strictObject({
    ...base,
    type: z.literal('input'),
    save: nodeId,
    validate: z.strictObject({
      min: z.number().int().min(1).default(1),
      max: z.number().int().min(1).max(160),
      digits: z.boolean().optional(),
      pattern: z.string().optional(),
    }),
    error: textKey,
    next: target,
    /** never recorded: call steps keep only that something was typed (a NINA number) */
    private: z.boolean().optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('pick'),
    source: nodeId,
    params: z.array(nodeId).optional(),
    save: nodeId,
    next: target,
    empty: target,
  }),
  z.strictObject({
    type: z.literal('branch'),
    /** the answer to go on by */
    on: nodeId,
    cases: z.record(z.string().regex(/^[a-z0-9_]+$/), target),
    otherwise: target,
  }),
  z.strictObject({
    type: z.literal('lookup'),
    source: nodeId,
    params: z.array(nodeId).optional(),
    found: target,
    not_found: target,
    forget: z.array(nodeId).optional(),
  }),
  z.strictObject({
    ...base,
    type: z.literal('choice'),
    save: nodeId,
    items: z.array(choiceItem).min(1).max(97).optional(),
    list: nodeId.optional(),
    next: target,
  }),
  z.strictObject({
    ...base,
    type: z.literal('confirm'),
    yes: target,
    no: target,
    yes_label: textKey.optional(),
    no_label: textKey.optional(),
  }),
  z.strictObject({ ...base, type: z.literal('end') }),
]);

export const flowFileSchema = z.strictObject({
  id: nodeId,
  description: z.string().optional(),
  start: nodeId,
  /** only in the entry flow: where callers land once their language is known */
  home: nodeId.optional(),
  /** only in the entry flow: the language menu */
  language: nodeId.optional(),
  lists: z.record(nodeId, z.array(choiceItem).min(1).max(97)).optional(),
  nodes: z.record(nodeId, nodeSchema),
});

export type FlowFile = z.infer<typeof flowFileSchema>;
export type FlowFileNode = z.infer<typeof nodeSchema>;

/**
 * `flows/variables.yaml`: election-specific values that admins set in one
 * place (the election's name, accepted documents, numbers to call), used in
 * texts as `{{name}}`.
 */
export const variablesFileSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9_]*$/, 'a variable name is lowercase letters, digits and _'),
  z
    .object({
      /** the value shipped as an example: while a language still holds it, production refuses to start */
      sample: z.string().optional(),
    })
    // One value per language code (the validator checks every language of flows/languages.yaml has one).
    .catchall(z.string({ error: 'a value is text' })),
);
export type VariablesFile = z.infer<typeof variablesFileSchema>;

const keywordList = z.array(z.string().regex(/^\S{1,20}$/, 'a keyword is one word')).min(1);
/** `flows/keywords.yaml`: the SMS keywords admins edit. */
export const keywordsFileSchema = z.strictObject({
  help: keywordList,
  status: keywordList,
  stop: keywordList,
  start: keywordList,
  station: keywordList,
});
export type KeywordsFile = z.infer<typeof keywordsFileSchema>;
