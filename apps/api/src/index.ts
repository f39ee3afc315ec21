export { buildApi, type ApiDependencies } from './app';
export { runApi } from './run-api';
