// Keyboard shortcuts (listed in the page's help dialog, viewer.html).
import { $ } from './dom.js';

const SEEK_STEP_MS = 5000;

export function bindKeys(viewer, player) {
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const pages = (step) => {
    const i = viewer.pages.findIndex((p) => p.id === viewer.replayId);
    const page = viewer.pages[i + step];
    if (i >= 0 && page) viewer.open(page.id);
  };
  document.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typing(ev.target) && ev.target.type !== 'checkbox') return;
    if ($('help').open && ev.key !== '?') return;
    if (!$('auth').hidden) return;
    const actions = {
      ' ': () => player.toggle(),
      k: () => player.toggle(),
      ArrowLeft: () => player.seek(player.currentMs() - SEEK_STEP_MS),
      ArrowRight: () => player.seek(player.currentMs() + SEEK_STEP_MS),
      Home: () => player.seek(0),
      End: () => player.seek(player.durationMs),
      1: () => player.setSpeed(1),
      2: () => player.setSpeed(2),
      4: () => player.setSpeed(4),
      8: () => player.setSpeed(8),
      s: () => player.setSkipInactive(!player.skipInactive),
      n: () => pages(1),
      p: () => pages(-1),
      '?': () => ($('help').open ? $('help').close() : $('help').showModal()),
    };
    const action = actions[ev.key.length === 1 ? ev.key.toLowerCase() : ev.key];
    if (!action || (ev.shiftKey && ev.key !== '?')) return;
    ev.preventDefault();
    action();
  });
  // A focused button would also take Space as a click when the key comes up.
  document.addEventListener('keyup', (ev) => {
    const t = ev.target;
    if (ev.key === ' ' && t && (t.tagName === 'BUTTON' || t.type === 'checkbox')) ev.preventDefault();
  });
}
