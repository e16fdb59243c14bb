/** What records keep instead of a private input (a NINA number): the fact that something was typed. */
export const PRIVATE_INPUT = '[private]';
