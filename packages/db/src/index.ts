export { createPool, withDefaultUser, withTransaction, type Pool, type PoolClient, type PoolOptions } from './pool';
export { translatePgError, watchConnection } from './pg-errors';
export { assertMigrated, ensureDatabase, migrate, SchemaNotCurrentError } from './migrate';
export {
  AccountsRepository,
  ApiKeysRepository,
  newWebhookSecret,
  type Account,
  type ApiKey,
  type NewAccount,
  type Principal,
} from './accounts.repository';
export { importAccounts, AccountImportError, type AccountImportRow, type AccountImportResult } from './accounts-import';
export {
  ReportsRepository,
  IdempotencyMismatchError,
  IDEMPOTENCY_WINDOW_HOURS,
  type NewReport,
  type ReportListFilter,
  type CompletedReport,
} from './reports.repository';
export { CallbacksRepository, type DeliverableEvent, type CallbackEvent, type CallbackAttempt, type CallbackState } from './callbacks.repository';
export { newEventId, type TerminalChange, type CallbackEventType } from './reports.repository';
export { SchedulesRepository } from './schedules.repository';
export { DestinationsRepository, type DestinationRecord, type SecretSealer } from './destinations.repository';
export { type PendingDelivery } from './reports.repository';
