// Runner for browsers: the page imports this bundle and calls `runConformance` through `window`.
// datarhei-auth0's client-credentials grant is left out: a client secret has no place in a browser,
// and OpenID providers refuse CORS to confidential clients (browser apps pass `getToken` instead).
import { runConformance } from './conformance.mjs';
import { modules } from './modules.mjs';

const { drAuth0: _omitted, ...browserModules } = modules;
globalThis.runConformance = (control) => runConformance({ control, modules: { ...browserModules, browser: true } });
