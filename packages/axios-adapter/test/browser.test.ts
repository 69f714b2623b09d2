// The built axios adapter in real headless Chromium, on both of axios' browser transports.
import { describeBrowserScenarios } from './fixtures/browser-scenarios.js';

describeBrowserScenarios('xhr');
describeBrowserScenarios('fetch');
