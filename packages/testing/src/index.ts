export { listen, readBody, readRawBody, sendJson, sendHtml, bearerToken, routes } from './server-kit.js';
export type { RunningServer, Handler, Route, RouteMatch, RouteTable } from './server-kit.js';
export { FaultPlan } from './faults.js';
export type { Fault, FaultRule } from './faults.js';
export { CallWindow } from './window.js';
export * from './openloyalty/index.js';
export * from './datarhei/index.js';
