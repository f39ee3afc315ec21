export { createTestDatabase, TEST_DATABASE_SERVER, type TestDatabase } from './database';
export { uniqueQueuePrefix, TEST_REDIS_URL } from './redis';
export { waitFor } from './wait';
