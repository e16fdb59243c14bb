/**
 * Service codes as every gateway writes them. Africa's Talking sends the code
 * as dialled (`*384*123#`); Hubtel leaves out the `*` and `#` (`713`,
 * `711*2`), or sends its own id of the service (`7c920dc49b7a40588c657119ce599044`).
 * `USSD_SERVICE_CODES` is written the way a caller dials (`*713#`): codes are
 * compared bare, and a code extended with inputs typed in the dial string
 * (`*384*123*1#`) belongs to the code it extends.
 */

/**
 * A code without spaces, leading `*` or trailing `#`, in lower case (a
 * service id is compared without regard to case).
 *
 * @example
 * bareServiceCode('*384*123#') // '384*123'
 * bareServiceCode('713') // '713'
 */
export function bareServiceCode(code: string): string {
  return code.replace(/\s+/g, '').replace(/^\*+/, '').replace(/#+$/, '').toLowerCase();
}

/**
 * Whether a gateway's service code is served: any code when the allowlist is
 * empty, otherwise a code of the list or one extending it with `*` and more.
 *
 * @example
 * isServedCode('713*1', ['*713#']) // true
 * isServedCode('*384*1234#', ['*384*123#']) // false
 */
export function isServedCode(code: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const dialled = bareServiceCode(code);
  if (dialled === '') return false;
  return allowed.some((entry) => {
    const ours = bareServiceCode(entry);
    return ours !== '' && (dialled === ours || dialled.startsWith(`${ours}*`));
  });
}

/**
 * A code as a caller dials it, for the call record: Hubtel's `713*1`
 * becomes `*713*1#`, as Africa's Talking would have sent it. A service id
 * (not digits and `*`) is kept as sent.
 *
 * @example
 * dialledForm('384*123') // '*384*123#'
 * dialledForm('7c920dc49b7a40588c657119ce599044') // unchanged
 */
export function dialledForm(code: string): string {
  const bare = bareServiceCode(code);
  return /^\d+(\*\d+)*$/.test(bare) ? `*${bare}#` : code.trim();
}
