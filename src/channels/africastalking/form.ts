/**
 * Africa's Talking posts every callback as a form body. These helpers read
 * one the same way everywhere: the content type first, then each field with
 * a plain reason when it is missing, repeated or too long.
 */
import express, { type Request, type Response } from 'express';
import { z } from 'zod';

/** Parses AT's form bodies: small, flat, a bounded number of fields. */
export const parseAtForm = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });

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

/**
 * Reads the form with `schema`, or answers 415/400 with a plain reason and
 * returns undefined.
 */
export function readForm<T>(req: Request, res: Response, schema: z.ZodType<T>): T | undefined {
  if (!req.is('application/x-www-form-urlencoded')) {
    res.status(415).type('text/plain').send('expected Content-Type: application/x-www-form-urlencoded');
    return undefined;
  }
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) {
    res.status(400).type('text/plain').send(parsed.error.issues[0]!.message);
    return undefined;
  }
  return parsed.data;
}
