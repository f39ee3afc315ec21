export { createPool, withDefaultUser, withTransaction, type Pool, type PoolClient, type PoolOptions } from './pool';
export { ensureDatabase, migrate } from './migrate';
export {
  AccountsRepository,
  ApiKeysRepository,
  newWebhookSecret,
  type Account,
  type ApiKey,
  type NewAccount,
  type Principal,
} from './accounts.repository';
