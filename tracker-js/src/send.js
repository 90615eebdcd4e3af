// One beacon to POST {api}/collect. text/plain keeps it a CORS "simple request" (no preflight);
// sendBeacon and fetch keepalive both survive the page being unloaded. A failure is a warning.
import { cfg } from './config.js';
import { guard, warn } from './guard.js';

export const post = guard((json) => {
  const url = cfg.a + '/collect';
  try {
    if (navigator.sendBeacon(url, json)) return;
  } catch {
    // missing or broken sendBeacon: fall through to fetch
  }
  // A string body is sent as text/plain;charset=UTF-8.
  fetch(url, { method: 'POST', body: json, keepalive: true }).catch(warn);
});
