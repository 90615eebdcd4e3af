// Frustration signals of a session (GET /sessions's `signals`: counts by kind), as the lists
// show them: text first ("Rage 2"), so the badges' colour is never the only cue.

export const SIGNAL_NAMES = { rage: 'Rage', dead: 'Dead', error: 'Error' };
// The Frustration filter's choices: GET /sessions's `signal` values.
export const SIGNAL_FILTER = {
  '': 'Any session',
  'rage,dead,error': 'Any signal',
  rage: 'Rage clicks',
  dead: 'Dead clicks',
  error: 'Error clicks',
};

/** [{kind, name, count, label}] of the kinds the session has, in a fixed order. */
export function signalsOf(session) {
  return Object.entries(SIGNAL_NAMES)
    .filter(([kind]) => session?.signals?.[kind] > 0)
    .map(([kind, name]) => {
      const count = session.signals[kind];
      return { kind, name, count, label: `${count} ${name.toLowerCase()} click${count > 1 ? 's' : ''}` };
    });
}

/** The signals as one line of text ("Rage 1, Error 2"; '' for none), for sorting and CSV. */
export const signalsText = (session) =>
  signalsOf(session)
    .map((s) => `${s.name} ${s.count}`)
    .join(', ');
