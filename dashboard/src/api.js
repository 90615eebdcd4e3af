// The brand API, same origin, with the dashboard's session cookie. A change (non-GET) carries the
// page's CSRF token in X-CSRF-Token. Every call times out, so nothing waits forever, and an
// answer in the API's error shape becomes an ApiError whose message can be shown as it is.

export const TIMEOUT_MS = 30_000;

export class ApiError extends Error {
  constructor(status, code, message, param) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

export const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || '';

/** A query string from an object; arrays repeat the parameter, empty values are left out. */
export function queryString(params = {}) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== null && v !== undefined && v !== '') q.append(name, String(v));
    }
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

function explainFailure(res, body) {
  const e = body?.error || {};
  if (res.status === 401) return 'Your session has ended: sign in again.';
  return e.message || `The collector answered ${res.status} ${res.statusText}.`;
}

/** One call: {data, total, response}. `signal` cancels it; it also gives up after `timeoutMs`. */
export async function call(method, url, { body, signal, timeoutMs = TIMEOUT_MS, accept = 'json' } = {}) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
  const onCancel = () => abort.abort(signal.reason);
  signal?.addEventListener('abort', onCancel);
  const headers = { Accept: accept === 'json' ? 'application/json' : '*/*' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: abort.signal,
    });
    return await readAnswer(res, accept);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (signal?.aborted) throw err;
    if (abort.signal.aborted) {
      throw new ApiError(
        0,
        'timeout',
        `No answer after ${Math.round(timeoutMs / 1000)} s: try again or a shorter range.`,
      );
    }
    throw new ApiError(0, 'network', `The collector could not be reached (${err.message}).`);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCancel);
  }
}

async function readAnswer(res, accept) {
  if (res.ok && accept === 'blob') return { data: await res.blob(), total: null, response: res };
  let body = null;
  if (res.status !== 204) {
    const text = await res.text();
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    const e = body?.error || {};
    throw new ApiError(res.status, e.code || 'error', explainFailure(res, body), e.param);
  }
  const total = res.headers.get('X-Total-Count');
  return { data: body, total: total === null ? null : Number(total), response: res };
}

/** A client for one brand: get/post/patch/del on paths under /api/brands/{brand}. */
export function brandApi(brand) {
  const base = `/api/brands/${encodeURIComponent(brand)}`;
  return {
    brand,
    url: (path, params) => `${base}${path}${queryString(params)}`,
    get: (path, params, opts) => call('GET', `${base}${path}${queryString(params)}`, opts),
    getBlob: (path, params, opts) => call('GET', `${base}${path}${queryString(params)}`, { ...opts, accept: 'blob' }),
    post: (path, body, opts) => call('POST', `${base}${path}`, { ...opts, body }),
    patch: (path, body, opts) => call('PATCH', `${base}${path}`, { ...opts, body }),
    del: (path, opts) => call('DELETE', `${base}${path}`, opts),
  };
}
