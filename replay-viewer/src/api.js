// Credentials and API calls. A share token comes from the URL fragment (#share=TOKEN); an API
// key is typed in by the user and kept in sessionStorage only (never localStorage or cookies).

const KEY_STORE = 'clicktrail.viewer.key';
const BRAND_STORE = 'clicktrail.viewer.brand';

/** An answer in the API's error shape ({"error": {status, code, message}}), or a network failure. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const b64urlJson = (part) => {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
};

/** The share token in the fragment, decoded ({token, brand, session, replay, expires}), or null.
 * Throws ApiError when a token is there but cannot be read. */
export function shareFromLocation(loc = window.location) {
  const match = /(?:^#|&)share=([^&]+)/.exec(loc.hash || '');
  if (!match) return null;
  let token;
  let claims;
  try {
    token = decodeURIComponent(match[1]);
    claims = b64urlJson(token.split('.')[0]);
  } catch {
    throw new ApiError(400, 'bad_share_link', 'This share link is damaged: copy the whole link and try again.');
  }
  if (typeof claims !== 'object' || claims === null || claims.b == null || !claims.s) {
    throw new ApiError(400, 'bad_share_link', 'This share link is damaged: copy the whole link and try again.');
  }
  return { token, brand: String(claims.b), session: claims.s, replay: claims.r, expires: claims.e };
}

export const storedBrand = () => sessionStorage.getItem(BRAND_STORE);
export const storedKey = () => sessionStorage.getItem(KEY_STORE);

export function remember(brand, key) {
  sessionStorage.setItem(BRAND_STORE, brand);
  sessionStorage.setItem(KEY_STORE, key);
}

export function forget() {
  sessionStorage.removeItem(KEY_STORE);
}

/** A client for one brand with one bearer credential (an API key or a share token). */
export function client(brand, bearer) {
  const base = `/api/brands/${encodeURIComponent(brand)}`;
  const get = async (path) => {
    let res;
    try {
      res = await fetch(base + path, {
        headers: { Authorization: `Bearer ${bearer}`, Accept: 'application/json' },
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network', `The collector could not be reached (${err.message}).`);
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (!res.ok) {
      const e = body?.error || {};
      throw new ApiError(res.status, e.code || 'error', e.message || `${res.status} ${res.statusText}`);
    }
    return body;
  };
  const id = encodeURIComponent;
  return {
    brand,
    replay: (r) => get(`/replays/${id(r)}`),
    rrweb: (r) => get(`/replays/${id(r)}?format=rrweb&assets=stored`),
    index: (r) => get(`/replays/${id(r)}/index`),
    window: (r, fromMs, untilMs) =>
      get(`/replays/${id(r)}?format=rrweb&assets=stored&from_ms=${fromMs}&until_ms=${untilMs}`),
    sessionReplays: (s) => get(`/replays?session_id=${id(s)}`),
    session: (s) => get(`/clicks/session/${id(s)}`),
    firstClick: (s) => get(`/clicks?click_id=${id(s)}`),
  };
}
