/**
 * JSON for the command line (`eventfold read`, plain and --json), one rule
 * for every type of the data model that JSON lacks (documented in the
 * README's command-line section):
 *   bigint                       → its decimal digits as a string ("12345678901234567890")
 *   Set                          → an array of its items
 *   Buffer, typed array          → an array of its numbers (BigInt64Array items as strings)
 *   ArrayBuffer                  → an array of its bytes
 *   Date                         → its ISO string (as JSON.stringify does)
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // The holder's own value: JSON.stringify has already applied toJSON (a Buffer would be { type, data }).
  const raw = this[key];
  if (typeof raw === 'bigint') return raw.toString();
  if (raw instanceof Set) return [...raw];
  if (raw instanceof ArrayBuffer) return [...new Uint8Array(raw)];
  if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) {
    return Array.from(raw as unknown as ArrayLike<number | bigint>, (n) => (typeof n === 'bigint' ? n.toString() : n));
  }
  return value;
}
