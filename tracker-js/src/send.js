// One beacon to POST {api}/collect. text/plain keeps it a CORS "simple request" (no preflight);
// sendBeacon and fetch keepalive both survive the page being unloaded.
import { cfg } from './config.js';
import { warn } from './guard.js';

export function post(json) {
  const url = cfg.a + '/collect';
  try {
    if (navigator.sendBeacon(url, new Blob([json], { type: 'text/plain' }))) return;
  } catch {
    // missing or broken sendBeacon: fall through to fetch
  }
  // A string body is sent as text/plain;charset=UTF-8.
  fetch(url, { method: 'POST', body: json, keepalive: true }).catch(warn);
}
