// The browser's time zone, sent as `timezone` so days start at the user's midnight.
export const browserZone = () => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
};
export const zoneOffsetMs = () => new Date().getTimezoneOffset() * 60_000;

let regionNames = null;
/** "GB" -> "United Kingdom" (the code itself when the browser has no name for it). */
export function countryName(code) {
  if (!code) return null;
  try {
    regionNames = regionNames || new Intl.DisplayNames(['en'], { type: 'region' });
    return regionNames.of(String(code).toUpperCase()) || code;
  } catch {
    return code;
  }
}
