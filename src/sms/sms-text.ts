/**
 * SMS texts: the keys the SMS features use, and rendering with the segment
 * count and encoding a handset will see (Twilio's algorithm, from
 * sms-segments-calculator: 160/153 GSM-7, 70/67 UCS-2 per segment).
 */
import { SegmentedMessage } from 'sms-segments-calculator';
import type { CompiledFlows, Lang } from '../engine/types.js';

/** Keys in `locales/<lang>/sms.json` that code (not a flow) sends. */
export const SMS_TEXTS = Object.freeze({
  help: 'sms:help',
  status: 'sms:status',
  statusUnknown: 'sms:status_unknown',
  stopAck: 'sms:stop_ack',
  startAck: 'sms:start_ack',
  fallback: 'sms:fallback',
  stationHelp: 'sms:station_help',
  stationFound: 'sms:station_found',
  stationUnknown: 'sms:station_unknown',
  stationNoList: 'sms:station_no_list',
  stationLimit: 'sms:station_limit',
});

/** Report statuses an SMS may name, each a key `sms:report_status.<status>`. */
export const REPORT_STATUSES = ['new', 'verifying', 'verified', 'dismissed', 'escalated'] as const;
export const reportStatusKey = (status: string) => `sms:report_status.${status}`;

export interface RenderedSms {
  text: string;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
  characters: number;
}

export function measureSms(text: string): Omit<RenderedSms, 'text'> {
  const m = new SegmentedMessage(text);
  return { segments: m.segmentsCount, encoding: m.encodingName === 'GSM-7' ? 'GSM-7' : 'UCS-2', characters: m.numberOfCharacters };
}

/** Renders a template in a language (with the deployment's Bambara spelling) and measures it. */
export function renderSms(flows: CompiledFlows, lang: Lang, template: string, vars: Record<string, string>): RenderedSms {
  const text = flows.texts(lang, template, vars);
  return { text, ...measureSms(text) };
}
