// htm bound to Preact's h: html`<div class=${c}>...</div>` without a compile step.
import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);
