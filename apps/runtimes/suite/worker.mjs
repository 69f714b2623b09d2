// Runner for Cloudflare Workers (workerd): one request per scenario, `GET /run?control=…&scenario=…`,
// answered with the JSON results. Bundled by esbuild from the packages' dist (workerd resolves no
// node_modules).
import { buildScenarios, runConformance } from './conformance.mjs';
import { modules } from './modules.mjs';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/list') return Response.json(buildScenarios(modules).map((s) => s.name));
    if (url.pathname === '/run') {
      const only = url.searchParams.getAll('scenario');
      const results = await runConformance({
        control: url.searchParams.get('control'),
        modules,
        only: only.length ? only : undefined,
      });
      return Response.json(results);
    }
    return new Response('not found', { status: 404 });
  },
};
