/**
 * The voice line's settings as content (`flows/voice.yaml`, versioned and
 * published with the menus, edited in the console's editor): when advisers
 * answer, and on which numbers. During those hours the home menu says
 * "pour parler à un conseiller, tapez 9" and 9 puts the caller through
 * (AT's `Dial`); outside them, the home menu's call-back request is what a
 * caller has. A content without the file has no adviser on the line.
 *
 * @example
 * adviser:
 *   numbers: ["+22320000001", "+22320000002"]
 *   time_zone: Africa/Bamako
 *   hours:
 *     - { days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00" }
 */
import { z } from 'zod';
import { parseOptionalYamlFile, type ParsedFile } from './flow-loader.js';
import type { Problem } from './problems.js';

export const VOICE_FILE = 'voice.yaml';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time is HH:MM, from 00:00 to 23:59');
const timeZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone name, such as Africa/Bamako');

export const voiceFileSchema = z.strictObject({
  adviser: z
    .strictObject({
      /** the advisers' line(s), E.164, rung one after the other */
      numbers: z.array(z.string().regex(/^\+\d{6,15}$/, 'a number in E.164, such as +22320000001')).min(1).max(10),
      time_zone: timeZone.default('Africa/Bamako'),
      hours: z
        .array(z.strictObject({ days: z.array(z.enum(DAYS)).min(1), from: hhmm, to: hhmm }).refine((h) => h.from < h.to, 'from must be before to'))
        .min(1),
      /** a call put through ends after this long */
      max_minutes: z.number().int().min(1).max(120).default(20),
    })
    .optional(),
});
export type VoiceFile = z.infer<typeof voiceFileSchema>;
export type AdviserSettings = NonNullable<VoiceFile['adviser']>;

/** Parses `dir/voice.yaml` (undefined when there is none), its problems pushed to `problems`. */
export function parseVoiceFile(dir: string, problems: Problem[], root = process.cwd()): ParsedFile<VoiceFile> | undefined {
  return parseOptionalYamlFile(dir, VOICE_FILE, voiceFileSchema, problems, root);
}

/** Whether an adviser answers at `now`, in the settings' time zone. */
export function advisersAnswer(adviser: Pick<AdviserSettings, 'time_zone'> & { readonly hours: readonly { readonly days: readonly string[]; readonly from: string; readonly to: string }[] } | undefined, now: Date): boolean {
  if (!adviser) return false;
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: adviser.time_zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').toLowerCase().slice(0, 3);
  const time = `${get('hour')}:${get('minute')}`;
  return adviser.hours.some((h) => h.days.includes(day) && h.from <= time && time < h.to);
}
