/**
 * What is wrong with an imported file: problems by row and column, with a
 * reason in French (operators read them in the console). A file may be
 * wrong on every one of its 500,000 rows: the list keeps the first
 * MAX_PROBLEMS by row and counts the rest, so memory stays flat.
 */

export interface ImportProblem {
  /** line in the file (the header is line 1; 0: the whole list) */
  row: number;
  column: string;
  reason: string;
}

/** Problems beyond this are counted, not listed. */
export const MAX_PROBLEMS = 200;

/**
 * The first `limit` problems in row order (a row's own problems in the order
 * they were found), and how many there were in all.
 *
 * @example
 * const problems = new ProblemList();
 * problems.add(12, 'nina', 'même NINA que la ligne 3');
 * problems.total; // 1
 */
export class ProblemList {
  private readonly kept: ImportProblem[] = [];
  total = 0;

  constructor(private readonly limit = MAX_PROBLEMS) {}

  add(row: number, column: string, reason: string): void {
    this.total += 1;
    if (this.kept.length >= this.limit && row >= this.kept[this.kept.length - 1]!.row) return;
    // After every problem of the same row or an earlier one: found in file order, mostly appended.
    let at = this.kept.length;
    while (at > 0 && this.kept[at - 1]!.row > row) at -= 1;
    this.kept.splice(at, 0, { row, column, reason });
    if (this.kept.length > this.limit) this.kept.pop();
  }

  /** the earliest row with a problem, if any */
  get firstRow(): number | undefined {
    return this.kept[0]?.row;
  }

  get list(): ImportProblem[] {
    return [...this.kept];
  }
}

export type FileKind = 'stations' | 'voters';

/** The file has problems: nothing was imported. */
export class ImportError extends Error {
  override name = 'ImportError';
  /** every problem found, listed or not */
  readonly total: number;
  /** the kind of file, when its header said */
  readonly kind: FileKind | undefined;
  /** data rows read */
  readonly rows: number;

  constructor(
    readonly problems: ImportProblem[],
    more: { total?: number; kind?: FileKind; rows?: number } = {},
  ) {
    const total = more.total ?? problems.length;
    super(`${total} problem${total === 1 ? '' : 's'} in the file: nothing was imported`);
    this.total = total;
    this.kind = more.kind;
    this.rows = more.rows ?? 0;
  }

  static from(problems: ProblemList, more: { kind?: FileKind; rows?: number } = {}): ImportError {
    return new ImportError(problems.list, { ...more, total: problems.total });
  }
}

/** Another import holds the import lock (one at a time, all processes together). */
export class ImportBusyError extends Error {
  override name = 'ImportBusyError';
  constructor() {
    super('another import of polling stations is running');
  }
}
