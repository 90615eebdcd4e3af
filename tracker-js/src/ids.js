// Ids in the ULID layout, lower-case Crockford base32, as collector/ids.py makes them:
// 10 characters of time in ms (so ids sort by creation time) and 16 random characters.

const A = '0123456789abcdefghjkmnpqrstvwxyz';

export const isId = (s) => /^[0-9a-hjkmnp-tv-z]{26}$/.test(s);

export function newId(t = Date.now()) {
  let s = '';
  // 2^50 ms is beyond year 37000, so plain division stays exact (no 32-bit bit ops).
  for (let i = 0; i < 10; i++, t = Math.floor(t / 32)) s = A[t % 32] + s;
  // Each byte's low 5 bits are uniform: 16 characters, 80 random bits.
  for (const b of crypto.getRandomValues(new Uint8Array(16))) s += A[b & 31];
  return s;
}
