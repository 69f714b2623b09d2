// The same packages plus axios and the axios adapter, for the runtimes axios runs on (Node, Deno, Bun).
import axios from 'axios';
import * as axiosAdapter from '@auth/axios-adapter';
import { modules as base } from './modules.mjs';

export const modules = { ...base, axios, axiosAdapter };
