export { AddressPolicy, normalizeAddress } from './address-policy';
export { callbackUrlRefusal, hostRefusal, resolveAll, type ResolveAll } from './callback-url';
export { createGuardedAgent, ForbiddenAddressError } from './guarded-agent';
export { deliverWebhook, retryAfterMs, MAX_RESPONSE_BYTES, type WebhookMessage, type DeliveryOutcome, type DeliverOptions } from './deliver';
export { signatureHeader, secretKey } from './signature';
export { retryDelay } from './retry-schedule';
export { HostLimiter } from './host-limiter';
