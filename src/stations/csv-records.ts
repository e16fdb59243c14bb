/**
 * Reads a CSV file as it arrives (csv-parse's stream API): records one at a
 * time, each with the line it starts on, whatever the file's size. A syntax
 * error becomes a problem of its line and reading goes on; the parser's own
 * message is never shown, since it quotes the offending value (maybe a NINA).
 */
import { Readable, pipeline } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import type { ProblemList } from './import-problems.js';

/** What a file source yields: bytes (UTF-8) or text. */
export type CsvChunk = Uint8Array | string;

export interface CsvRecord {
  values: string[];
  /** the file line the record starts on (blank lines and multi-line values counted) */
  line: number;
}

/** Longest record read: the longest valid row is some 450 characters; an unclosed quote must not swallow the file. */
export const MAX_RECORD_CHARS = 10_000;

/** How far the first line is looked for, to tell the separator. */
const HEADER_PEEK_BYTES = 64 * 1024;

const SYNTAX_REASONS: Record<string, string> = {
  INVALID_OPENING_QUOTE: 'guillemet ouvrant mal placé',
  CSV_INVALID_CLOSING_QUOTE: 'caractère inattendu après un guillemet fermant',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'caractère inattendu après un guillemet fermant',
  CSV_QUOTE_NOT_CLOSED: 'guillemet jamais refermé',
  CSV_MAX_RECORD_SIZE: `ligne trop longue (plus de ${MAX_RECORD_CHARS.toLocaleString('fr')} caractères)`,
};

const toBuffer = (chunk: CsvChunk): Buffer => (typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));

/** `;` when the first line has more of them than commas (spreadsheets set to French write `;`). */
function delimiterOf(head: Buffer): ',' | ';' {
  const newline = head.indexOf(0x0a);
  const firstLine = head.subarray(0, newline < 0 ? head.length : newline);
  let semicolons = 0;
  let commas = 0;
  for (const byte of firstLine) {
    if (byte === 0x3b) semicolons += 1;
    else if (byte === 0x2c) commas += 1;
  }
  return semicolons > commas ? ';' : ',';
}

/**
 * The records of a CSV file, read as its chunks arrive, with back-pressure:
 * the source is read no faster than the records are used.
 *
 * @example
 * for await (const { values, line } of readCsvRecords(createReadStream(file), problems)) ...
 */
export async function* readCsvRecords(source: AsyncIterable<CsvChunk> | Iterable<CsvChunk>, problems: ProblemList): AsyncGenerator<CsvRecord> {
  const chunks = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source[Symbol.iterator]());
  // The first line tells the separator: read until it is whole (or long enough).
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < HEADER_PEEK_BYTES) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    const buffer = toBuffer(next.value);
    head.push(buffer);
    headBytes += buffer.length;
    if (buffer.includes(0x0a)) break;
  }
  async function* all(): AsyncGenerator<Buffer> {
    try {
      yield* head;
      if (ended) return;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield toBuffer(next.value);
    } finally {
      await chunks.return?.();
    }
  }
  const parser = parse({
    delimiter: delimiterOf(Buffer.concat(head)),
    relax_column_count: true,
    skip_empty_lines: true,
    bom: true,
    info: true,
    max_record_size: MAX_RECORD_CHARS,
    skip_records_with_error: true,
  });
  parser.on('skip', (err: CsvError) => {
    problems.add(typeof err.lines === 'number' ? err.lines : 0, '', `CSV illisible : ${SYNTAX_REASONS[err.code] ?? 'erreur de syntaxe'}`);
  });
  // Errors reach the loop below (the parser is destroyed with them); nothing to do here.
  pipeline(Readable.from(all()), parser, () => {});
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    let newlines = 0;
    for (const value of record) for (let i = value.indexOf('\n'); i >= 0; i = value.indexOf('\n', i + 1)) newlines += 1;
    yield { values: record, line: info.lines - newlines };
  }
}

async function* toAsync<T>(iterator: Iterator<T>): AsyncGenerator<T> {
  for (let next = iterator.next(); !next.done; next = iterator.next()) yield next.value;
}
