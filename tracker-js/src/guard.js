// The tracker must never break the host page: everything that runs from a listener, a timer
// or a public API call goes through guard(), and a failure is a console warning at most.

export const warn = (e) => console.warn('clicktrail:', e);

export const guard =
  (f) =>
  (...a) => {
    try {
      return f(...a);
    } catch (e) {
      warn(e);
    }
  };
