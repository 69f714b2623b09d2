export { datarheiPassword } from './strategy.js';
export type { DatarheiPasswordOptions } from './strategy.js';
