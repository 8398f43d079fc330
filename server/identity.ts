/**
 * One person, one name: user names are compared in one canonical form (Unicode NFC, then case
 * folded), so `alice` and `Alice`, or a proxy's `Dave` and a users file's `dave`, are the same
 * person for self-approval and ownership (docs/security.md, "Identities"). Names are still shown
 * as they were written.
 */

/** The canonical form of a user name: NFC, case folded (upper then lower, so `ß` folds with `SS`). */
export function canonicalUser(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/** True when two user names name the same person. */
export function sameUser(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && canonicalUser(a) === canonicalUser(b);
}
