export { buildApi, type ApiDependencies } from './app';
export { createApi, runApi, type ApiInstance } from './run-api';
