/**
 * A problem found in a flow, locale or variables file, with the place an admin
 * should look at. Errors stop a flow from going live; warnings are listed.
 */
export interface Problem {
  file: string;
  line: number;
  col: number;
  severity: 'error' | 'warning';
  message: string;
}

/** `file:line:col message`, as editors and CI logs understand it. */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col} ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

/** Thrown when flows cannot go live; carries every problem found. */
export class FlowValidationError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super(`${errors.length} problem(s) in the flows:\n${errors.map(formatProblem).join('\n')}`);
    this.name = 'FlowValidationError';
  }
}
