/**
 * Africa's Talking posts every callback as a form body. These helpers read
 * one the same way everywhere: the content type first, then each field with
 * a plain reason when it is missing, repeated or too long.
 */
import express, { type Request, type Response } from 'express';
import { z } from 'zod';

/** What an AT form body may hold: small, flat, a bounded number of fields. */
export const AT_FORM_LIMITS = { bytes: 8 * 1024, parameters: 20 } as const;

/** Parses AT's form bodies within AT_FORM_LIMITS. */
export const parseAtForm = express.urlencoded({ extended: false, limit: AT_FORM_LIMITS.bytes, parameterLimit: AT_FORM_LIMITS.parameters });

/** A required single-valued field. */
export function formField(name: string, max: number) {
  return z
    .string({ error: (issue) => (Array.isArray(issue.input) ? `${name} is given more than once` : `${name} is missing`) })
    .min(1, `${name} is missing`)
    .max(max, `${name} is longer than ${max} characters`);
}

/** An optional field, possibly sent empty. */
export function optionalFormField(name: string, max: number) {
  return z.union([formField(name, max), z.literal('')]).optional();
}

/** A webhook's answer as plain text, whichever server path wrote it (Express, or the lean path in web/telco-fast-path.ts). */
export interface PlainAnswer {
  status: number;
  text: string;
}

/** Checks a parsed form body against `schema`: its data, or a 400 with the first problem as the reason. */
export function checkForm<T>(schema: z.ZodType<T>, body: unknown): { ok: true; data: T } | { ok: false; answer: PlainAnswer } {
  const parsed = schema.safeParse(body ?? {});
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, answer: { status: 400, text: parsed.error.issues[0]!.message } };
}

/** Whether the request says it is a form; if not, answers 415 with a plain reason. */
export function requireFormType(req: Request, res: Response): boolean {
  if (req.is('application/x-www-form-urlencoded')) return true;
  res.status(415).type('text/plain').send('expected Content-Type: application/x-www-form-urlencoded');
  return false;
}

/**
 * Reads the form with `schema`, or answers 415/400 with a plain reason and
 * returns undefined.
 */
export function readForm<T>(req: Request, res: Response, schema: z.ZodType<T>): T | undefined {
  if (!requireFormType(req, res)) return undefined;
  const checked = checkForm(schema, req.body);
  if (checked.ok) return checked.data;
  res.status(checked.answer.status).type('text/plain').send(checked.answer.text);
  return undefined;
}
