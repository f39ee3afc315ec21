export { buildApi, registeredRoutes, type ApiDependencies, type RegisteredRoute } from './app';
export { createApi, runApi, type ApiInstance } from './run-api';
