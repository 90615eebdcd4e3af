// Start-up: the signed-in user from the shell's JSON (#ct-boot), then the app.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { render } from 'preact';
import { App } from './app.js';
import { html } from './html.js';

function readBoot() {
  const empty = { email: '', role: 'viewer', brands: [], geoAttribution: false };
  try {
    const boot = JSON.parse(document.getElementById('ct-boot')?.textContent || '{}');
    return { ...empty, ...boot, brands: Array.isArray(boot.brands) ? boot.brands : [] };
  } catch {
    return empty;
  }
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} boot=${readBoot()} />`, root);
