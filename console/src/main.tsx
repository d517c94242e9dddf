import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import { App } from './app.js';
import './console.css';

/** The gateway writes the settings into the page as data (the CSP runs no inline script). */
const settingsElement = document.getElementById('console-settings');
const settings = JSON.parse(settingsElement?.textContent ?? '{}') as { examples?: string[] };

render(<App examples={settings.examples ?? []} />, document.getElementById('console') as HTMLElement);
