import { randomUUID } from 'node:crypto';
import type { AccountsRepository, DestinationRecord, DestinationsRepository } from '@cdr-reports/db';
import { destinationAddressRefusal, testDestination, type DestinationTestResult } from '@cdr-reports/destinations';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, parseDestinationInput, type DestinationInput } from '@cdr-reports/domain';
import type { AddressPolicy } from '@cdr-reports/webhooks';

export interface DestinationServiceDependencies {
  destinations: DestinationsRepository;
  accounts: AccountsRepository;
  /** Which addresses a destination may point at (private, loopback, metadata refused unless allowed). */
  policy: AddressPolicy;
}

/** The most destinations one page lists. */
const MAX_PAGE = 100;

const selfHref = (id: string) => `/v1/destinations/${id}`;

/** A destination as the API shows it: settings without secrets, and which secrets are set. */
export function toDestinationResource(destination: DestinationRecord): Record<string, unknown> {
  const settings = destination.publicSettings;
  return {
    destination_id: destination.id,
    account_id: destination.accountId,
    name: destination.name,
    type: settings.type,
    ...(settings.type === 's3' ? { s3: settings.s3 } : { sftp: settings.sftp }),
    secrets_set: destination.secretFields,
    key_template: destination.keyTemplate,
    created_at: destination.createdAt.toISOString(),
    updated_at: destination.updatedAt.toISOString(),
    _links: { self: { href: selfHref(destination.id) }, test: { href: `${selfHref(destination.id)}/test` } },
  };
}

/**
 * The destination use cases for a caller acting for `principal`: an account manages its own destinations and
 * those of the accounts below it; any other destination reads as missing (404).
 */
export class DestinationService {
  constructor(private readonly deps: DestinationServiceDependencies) {}

  /** POST: validated, its address checked, secrets sealed. `account_id` (optional) names an account below the key's. */
  async create(principal: string, body: unknown): Promise<DestinationRecord> {
    const accountId = await this.ownerOf(principal, body);
    const input = parseDestinationInput(withoutAccountId(body));
    await this.checkAddress(input);
    return this.deps.destinations.create(randomUUID(), accountId, input);
  }

  async get(principal: string, id: string): Promise<DestinationRecord> {
    const destination = await this.deps.destinations.find(id);
    if (!destination || !(await this.deps.accounts.isSelfOrDescendant(principal, destination.accountId))) throw new NotFoundError(`destination ${id} not found`);
    return destination;
  }

  /** A page of the caller's destinations and its descendants', oldest first. */
  async list(principal: string, query: { limit?: string; cursor?: string }): Promise<{ destinations: DestinationRecord[]; nextCursor?: string }> {
    const limit = query.limit === undefined ? 20 : Number(query.limit);
    const problems = [];
    if (query.limit !== undefined && (!/^\d+$/.test(query.limit) || limit < 1 || limit > MAX_PAGE)) problems.push({ name: 'limit', reason: `must be a whole number from 1 to ${MAX_PAGE}` });
    if (query.cursor !== undefined && !/^[0-9a-f-]{36}$/i.test(query.cursor)) problems.push({ name: 'cursor', reason: 'is not a cursor this API issued' });
    if (problems.length > 0) throw new ValidationError(problems);
    const accountIds = (await this.deps.accounts.selfAndDescendants(principal)).map((a) => a.id);
    const rows = await this.deps.destinations.list(accountIds, limit + 1, query.cursor);
    const page = rows.slice(0, limit);
    return { destinations: page, nextCursor: rows.length > limit ? page[page.length - 1]?.id : undefined };
  }

  /** PATCH: the fields given change, the rest (secrets included) stay; the address is checked again. */
  async update(principal: string, id: string, body: unknown): Promise<DestinationRecord> {
    await this.get(principal, id);
    const current = await this.deps.destinations.connection(id);
    if (!current) throw new NotFoundError(`destination ${id} not found`);
    const input = parseDestinationInput(body, current);
    await this.checkAddress(input);
    const updated = await this.deps.destinations.update(id, input);
    if (!updated) throw new NotFoundError(`destination ${id} not found`);
    return updated;
  }

  /** DELETE: refused while a schedule delivers into it (its next run would fail). */
  async delete(principal: string, id: string): Promise<void> {
    await this.get(principal, id);
    const schedules = await this.deps.destinations.schedulesUsing(id);
    if (schedules.length > 0) throw new ConflictError(`destination ${id} is used by schedule(s) ${schedules.join(', ')}: change or delete them first`);
    await this.deps.destinations.delete(id);
  }

  /** POST .../test: writes, reads back and deletes a probe object; the failing step is named. */
  async test(principal: string, id: string): Promise<DestinationTestResult> {
    await this.get(principal, id);
    const connection = await this.deps.destinations.connection(id);
    if (!connection) throw new NotFoundError(`destination ${id} not found`);
    return testDestination(connection, { policy: this.deps.policy });
  }

  private async checkAddress(input: DestinationInput): Promise<void> {
    const refusal = await destinationAddressRefusal(input, this.deps.policy);
    if (refusal) throw new ValidationError([{ name: input.type === 's3' ? 's3.endpoint' : 'sftp.host', reason: refusal }]);
  }

  /** The destination's account: the key's, or `account_id` when it names one the key manages. */
  private async ownerOf(principal: string, body: unknown): Promise<string> {
    const named = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).account_id : undefined;
    if (named === undefined || named === null) return principal;
    if (typeof named !== 'string') throw new ValidationError([{ name: 'account_id', reason: 'must be an account id' }]);
    if (!(await this.deps.accounts.isSelfOrDescendant(principal, named))) throw new ForbiddenError(`this API key cannot manage destinations of account ${named}`);
    return named;
  }
}

function withoutAccountId(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const { account_id: _ignored, ...rest } = body as Record<string, unknown>;
  return rest;
}
