export { runNotifier, USER_AGENT } from './run-notifier';
export { processDeliverCallback, DeliveryAttemptError } from './processors/deliver-callback.processor';
export { startCallbackRelay } from './callback-relay';
