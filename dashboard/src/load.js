// useLoad: one request's life in a component (loading, done, error with retry), cancelled when
// its inputs change or the component goes away, so a panel never spins forever.
import { useCallback, useEffect, useState } from 'preact/hooks';

/** `loader(signal)` is called again whenever `key` changes or `retry()` is called. With `keep`,
 * the last answer stays on show while the next one loads (a refresh); else a skeleton does. */
export function useLoad(loader, key, { keep = false } = {}) {
  const [state, setState] = useState({ status: 'loading', data: null, error: null, extra: null });
  const [attempt, setAttempt] = useState(0);
  // `key` stands for the loader's inputs: the loader itself is a new closure every render.
  useEffect(() => {
    const abort = new AbortController();
    setState((s) => ({ ...s, status: 'loading', error: null, data: keep ? s.data : null }));
    loader(abort.signal).then(
      (data) => !abort.signal.aborted && setState({ status: 'done', data, error: null }),
      (error) => !abort.signal.aborted && setState({ status: 'error', data: null, error }),
    );
    return () => abort.abort();
  }, [key, attempt]);
  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  return { ...state, retry };
}

/** Saves `blob` as a download called `name`. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
