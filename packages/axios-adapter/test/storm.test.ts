import axios from 'axios';
import type { OpenLoyaltyEcho } from '@auth/testing';
import { attachAuth } from '../src/index.js';
import { describeStorms } from './fixtures/storms.js';

describeStorms('axios refresh storms against the OpenLoyalty reference server', (session, server) => {
  const api = axios.create({ baseURL: server.url });
  attachAuth(api, session);
  return async (i) => {
    const res = await api.get<OpenLoyaltyEcho>('/api/echo', { params: { i } });
    return res.status === 200 && res.data.user.username === 'admin' && res.data.query.i === String(i);
  };
});
