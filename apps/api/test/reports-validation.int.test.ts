import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { CDR_COLUMN_NAMES } from '@cdr-reports/domain';
import { ACME_AND_GLOBEX, createAccounts, useReportCluster, type ReportCluster } from '@cdr-reports/testing';

/**
 * POST /v1/reports: the resource it answers with, every validation rule (400 naming the field, and nothing
 * recorded or enqueued), body and media-type errors, authorization of account_id, and Idempotency-Key.
 * No worker runs, so every job the API enqueues stays countable in the queue.
 */
describe('POST /v1/reports: validation, authorization and idempotency', () => {
  const cluster = useReportCluster({ worker: false });
  let queue: Queue;
  const key: Record<string, string> = {};

  const DAY = 86_400_000;
  const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
  const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');
  const dateStart = iso(new Date(today.getTime() - 7 * DAY));
  const dateEnd = iso(new Date(today.getTime() - 6 * DAY));
  /** A valid body; `changes` override or add fields (undefined removes one). */
  const body = (changes: Record<string, unknown> = {}): Record<string, unknown> => {
    const base: Record<string, unknown> = { product: 'SMS', date_start: dateStart, date_end: dateEnd, ...changes };
    for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name];
    return base;
  };
  const monthsBefore = (date: Date, months: number) => {
    const result = new Date(date.getTime());
    result.setUTCMonth(result.getUTCMonth() - months);
    return result;
  };

  /** Reports in the database and jobs in the reports queue (any state). */
  async function recorded(): Promise<{ reports: number; jobs: number }> {
    const rows = await cluster.services.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM reports');
    const counts = await queue.getJobCounts();
    return { reports: Number(rows.rows[0]!.n), jobs: Object.values(counts).reduce((sum, n) => sum + n, 0) };
  }

  /** Runs `send` and checks that it created no report row and no job. */
  async function createsNothing<T>(send: () => Promise<T>): Promise<T> {
    const before = await recorded();
    const result = await send();
    expect(await recorded()).toEqual(before);
    return result;
  }

  type Response = Awaited<ReturnType<ReportCluster['request']>>;
  function expectProblem(response: Response, status: number, field?: string): void {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    if (field !== undefined) {
      expect(response.body.invalid_params).toEqual(expect.arrayContaining([{ name: field, reason: expect.any(String) }]));
    }
  }

  /** A request with a raw payload and content type, as a misbehaving client would send it. */
  async function rawPost(payload: string | Buffer | undefined, contentType?: string): Promise<Response> {
    const response = await cluster.api.app.inject({
      method: 'POST',
      url: '/v1/reports',
      headers: { authorization: `Bearer ${key.acme}`, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
      ...(payload === undefined ? {} : { payload }),
    });
    let parsed: unknown = response.body;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      // not JSON
    }
    return { status: response.statusCode, headers: response.headers as Response['headers'], body: parsed };
  }

  beforeAll(async () => {
    Object.assign(key, await createAccounts(cluster, ACME_AND_GLOBEX));
    queue = cluster.reportQueue().queue;
    // At teardown, before the cluster closes: every connection the API took went back to its pool, and the suite's
    // own pool is idle.
    cluster.onTeardown(() => {
      const pool = cluster.services.db.pool;
      expect(pool.totalCount - pool.idleCount).toBe(0);
    });
  });

  describe('a valid request', () => {
    it('answers 202 with Location and the report resource, every parameter echoed with its default', async () => {
      const before = await recorded();
      const sent = Date.now();
      const response = await cluster.request('POST', '/v1/reports', key.acme!, body());
      expect(response.status).toBe(202);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const report = response.body;
      expect(report.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(response.headers.location).toBe(`/v1/reports/${report.request_id}`);
      expect(report).toEqual({
        request_id: report.request_id,
        request_status: 'PENDING',
        product: 'SMS',
        account_id: 'acme',
        include_subaccounts: false,
        date_start: dateStart,
        date_end: dateEnd,
        fields: CDR_COLUMN_NAMES.filter((name) => name !== 'message_body'),
        include_message: false,
        timezone: 'UTC',
        format: 'csv',
        compression: 'gzip',
        receive_time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        start_time: null,
        end_time: null,
        items_count: null,
        progress: { items_processed: 0, percent: 0 },
        expires_at: null,
        _links: { self: { href: `/v1/reports/${report.request_id}` } },
      });
      expect(Math.abs(Date.parse(report.receive_time) - sent)).toBeLessThan(10_000);

      // Recorded once, enqueued once (the job id is the report id), and readable at its Location.
      expect(await recorded()).toEqual({ reports: before.reports + 1, jobs: before.jobs + 1 });
      expect(await (await queue.getJob(report.request_id))?.getState()).toBe('waiting');
      const read = await cluster.request('GET', response.headers.location as string, key.acme!);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(report);
    });

    it('echoes every optional filter that was given', async () => {
      const given = {
        product: 'VOICE-CALL',
        account_id: 'acme-uk',
        include_subaccounts: true,
        date_start: `${dateStart.slice(0, 10)}T00:00:00+01:00`,
        date_end: dateEnd,
        direction: 'inbound',
        status: ['answered', 'busy'],
        from: '+4420*',
        to: '+14155550100',
        country: 'GB',
        network: '23415',
        hangup_cause: 'NORMAL_CLEARING',
        client_ref: 'batch 7',
        min_duration: 30,
        fields: ['id', 'start_time', 'duration'],
        timezone: 'Europe/London',
        format: 'jsonl',
        compression: 'zip',
        callback_url: 'https://93.184.215.14/reports',
      };
      const report = await cluster.createReport(key.acme!, given);
      expect(report).toMatchObject({ ...given, include_message: false, request_status: 'PENDING' });
    });

    it('accepts application/json with a charset', async () => {
      const response = await rawPost(JSON.stringify(body()), 'application/json; charset=utf-8');
      expect(response.status).toBe(202);
    });
  });

  describe('every invalid field answers 400 naming it, and nothing is created', () => {
    const old = iso(new Date(monthsBefore(today, 13).getTime() - 2 * DAY));
    const cases: [string, () => Record<string, unknown>, string][] = [
      ['product missing', () => body({ product: undefined }), 'product'],
      ['product unknown', () => body({ product: 'FAX' }), 'product'],
      ['product not a string', () => body({ product: ['SMS'] }), 'product'],
      ['account_id malformed', () => body({ account_id: 'acme uk' }), 'account_id'],
      ['account_id too long', () => body({ account_id: 'a'.repeat(65) }), 'account_id'],
      ['include_subaccounts not a boolean', () => body({ include_subaccounts: 'true' }), 'include_subaccounts'],
      ['date_start missing', () => body({ date_start: undefined }), 'date_start'],
      ['date_end missing', () => body({ date_end: undefined }), 'date_end'],
      ['date_start not RFC 3339', () => body({ date_start: dateStart.slice(0, 10) }), 'date_start'],
      ['date_end not RFC 3339', () => body({ date_end: 'next week' }), 'date_end'],
      ['date_start without an offset', () => body({ date_start: dateStart.slice(0, 19) }), 'date_start'],
      ['date_end without an offset', () => body({ date_end: dateEnd.slice(0, 19) }), 'date_end'],
      ['date_start equal to date_end', () => body({ date_end: dateStart }), 'date_end'],
      ['date_start after date_end', () => body({ date_start: dateEnd, date_end: dateStart }), 'date_end'],
      [
        'a span over 13 months',
        () => {
          const start = new Date(today.getTime() - 7 * DAY);
          const end = monthsBefore(start, -13);
          return body({ date_start: iso(start), date_end: iso(new Date(end.getTime() + 1000)) });
        },
        'date_end',
      ],
      ['date_start older than CDR_RETENTION', () => body({ date_start: old, date_end: iso(new Date(Date.parse(old) + DAY)) }), 'date_start'],
      ['direction unknown', () => body({ direction: 'both' }), 'direction'],
      ['status not valid for the product', () => body({ product: 'VOICE-CALL', status: 'delivered' }), 'status'],
      ['status list with a status of another product', () => body({ product: 'VOICE-CALL', status: ['answered', 'read'] }), 'status'],
      ['status an empty list', () => body({ status: [] }), 'status'],
      ['status not a string', () => body({ status: [1] }), 'status'],
      ['from with bad characters', () => body({ from: '+44-20-7946' }), 'from'],
      ['from with * not at the end', () => body({ from: '+44*20' }), 'from'],
      ['to with bad characters', () => body({ to: "ACME'--" }), 'to'],
      ['to with * not at the end', () => body({ to: '*4420' }), 'to'],
      ['country not two letters', () => body({ country: 'GBR' }), 'country'],
      ['country in lower case', () => body({ country: 'gb' }), 'country'],
      ['min_duration negative', () => body({ min_duration: -1 }), 'min_duration'],
      ['min_duration fractional', () => body({ min_duration: 2.5 }), 'min_duration'],
      ['min_duration a string', () => body({ min_duration: '60' }), 'min_duration'],
      ['fields with an unknown column', () => body({ fields: ['id', 'cost'] }), 'fields'],
      ['fields repeating a column', () => body({ fields: ['id', 'status', 'id'] }), 'fields'],
      ['fields empty', () => body({ fields: [] }), 'fields'],
      ['fields not an array', () => body({ fields: 'id,status' }), 'fields'],
      ['include_message with fields lacking message_body', () => body({ include_message: true, fields: ['id', 'status'] }), 'include_message'],
      ['include_message not a boolean', () => body({ include_message: 'true' }), 'include_message'],
      ['timezone not an IANA zone', () => body({ timezone: 'Mars/Olympus_Mons' }), 'timezone'],
      ['timezone an offset', () => body({ timezone: '+02:00' }), 'timezone'],
      ['compression not gzip or zip', () => body({ compression: 'bzip2' }), 'compression'],
      ['callback_url not http(s)', () => body({ callback_url: 'ftp://hooks.example.com/reports' }), 'callback_url'],
      ['callback_url not a URL', () => body({ callback_url: 'hooks.example.com/reports' }), 'callback_url'],
      ['format unknown', () => body({ format: 'xml' }), 'format'],
      ['format not a string', () => body({ format: ['jsonl'] }), 'format'],
      ['an unknown body field', () => body({ colour: 'blue' }), 'colour'],
      ['format not csv, jsonl or parquet', () => body({ format: 'xlsx' }), 'format'],
      ['another unknown body field', () => body({ account: 'acme' }), 'account'],
    ];

    it.each(cases)('%s', async (_case, make, field) => {
      const response = await createsNothing(() => cluster.request('POST', '/v1/reports', key.acme!, make()));
      expectProblem(response, 400, field);
      // Only the bad field is named: the rest of the body was valid.
      expect(response.body.invalid_params).toEqual([{ name: field, reason: expect.any(String) }]);
    });

    it('names the unknown and the repeated columns of fields', async () => {
      const response = await createsNothing(() => cluster.request('POST', '/v1/reports', key.acme!, body({ fields: ['id', 'cost', 'id'] })));
      expectProblem(response, 400, 'fields');
      const reasons = (response.body.invalid_params as { reason: string }[]).map((p) => p.reason).join(' | ');
      expect(reasons).toMatch(/"cost"/);
      expect(reasons).toMatch(/repeated.*"id"/);
    });

    it('names every unknown body field and every bad field at once', async () => {
      const response = await createsNothing(() =>
        cluster.request('POST', '/v1/reports', key.acme!, { date_start: 'x', colour: 'blue', shape: 'round', compression: 'rar' }),
      );
      expectProblem(response, 400);
      expect((response.body.invalid_params as { name: string }[]).map((p) => p.name).sort()).toEqual(
        ['colour', 'compression', 'date_end', 'date_start', 'product', 'shape'].sort(),
      );
    });
  });

  describe('a body that is not a JSON object', () => {
    it.each([
      ['a JSON array', JSON.stringify([body()])],
      ['a JSON string', JSON.stringify('{"product":"SMS"}')],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
    ])('%s answers 400 naming the body, and nothing is created', async (_case, payload) => {
      const response = await createsNothing(() => rawPost(payload, 'application/json'));
      expectProblem(response, 400, 'body');
    });

    it('malformed JSON answers 400, and nothing is created', async () => {
      const response = await createsNothing(() => rawPost('{"product": "SMS", "date_start": ', 'application/json'));
      expectProblem(response, 400);
    });

    it('an empty JSON body answers 400, and nothing is created', async () => {
      const response = await createsNothing(() => rawPost('', 'application/json'));
      expectProblem(response, 400);
    });

    it('no body at all answers 400, and nothing is created', async () => {
      const response = await createsNothing(() => rawPost(undefined));
      expectProblem(response, 400);
    });

    it.each([
      ['application/xml', '<report><product>SMS</product></report>'],
      ['application/x-www-form-urlencoded', 'product=SMS'],
      ['text/plain', JSON.stringify(body())],
    ])('Content-Type %s answers 415, and nothing is created', async (contentType, payload) => {
      const response = await createsNothing(() => rawPost(payload, contentType));
      expectProblem(response, 415);
    });

    it('a body over the size limit answers 413, and nothing is created', async () => {
      const response = await createsNothing(() => rawPost(JSON.stringify(body({ client_ref: 'x'.repeat(3 * 1024 * 1024) })), 'application/json'));
      expectProblem(response, 413);
    });
  });

  describe('account_id', () => {
    it.each([
      ['of another account', 'acme', 'globex'],
      ['of the parent, for a subaccount key', 'acme-uk', 'acme'],
      ['of a sibling tree', 'globex', 'acme-uk'],
      ['of an account that does not exist', 'acme', 'nobody'],
    ])('%s answers 403, and nothing is created', async (_case, caller, accountId) => {
      const response = await createsNothing(() => cluster.request('POST', '/v1/reports', key[caller]!, body({ account_id: accountId })));
      expectProblem(response, 403);
    });

    it.each([
      ['a child', 'acme', 'acme-uk'],
      ['a grandchild', 'acme', 'acme-uk-london'],
      ['its own', 'acme-uk', 'acme-uk'],
    ])('of %s is accepted with 202', async (_case, caller, accountId) => {
      const before = await recorded();
      const report = await cluster.createReport(key[caller]!, body({ account_id: accountId, include_subaccounts: true }));
      expect(report).toMatchObject({ account_id: accountId, include_subaccounts: true, request_status: 'PENDING' });
      expect(await recorded()).toEqual({ reports: before.reports + 1, jobs: before.jobs + 1 });
      const row = await cluster.services.db.pool.query('SELECT account_id, requested_by FROM reports WHERE id = $1', [report.request_id]);
      expect(row.rows).toEqual([{ account_id: accountId, requested_by: caller }]);
    });
  });

  describe('Idempotency-Key', () => {
    const post = (caller: string, payload: unknown, idempotencyKey?: string) =>
      cluster.request('POST', '/v1/reports', key[caller]!, payload, idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey });

    it('the same key and body again answer 200 with the first report, whatever the order of the keys', async () => {
      const idem = randomUUID();
      const first = await post('acme', body({ direction: 'outbound', status: ['delivered', 'read'] }), idem);
      expect(first.status).toBe(202);
      const before = await recorded();

      const reordered = { status: ['delivered', 'read'], date_end: dateEnd, direction: 'outbound', date_start: dateStart, product: 'SMS' };
      expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(body({ direction: 'outbound', status: ['delivered', 'read'] })));
      for (const payload of [body({ direction: 'outbound', status: ['delivered', 'read'] }), reordered]) {
        const again = await post('acme', payload, idem);
        expect(again.status).toBe(200);
        expect(again.headers.location).toBe(`/v1/reports/${first.body.request_id}`);
        expect(again.body).toMatchObject({ request_id: first.body.request_id, request_status: 'PENDING' });
      }
      expect(await recorded()).toEqual(before);
    });

    it('the same key with another body answers 422, and nothing is created', async () => {
      const idem = randomUUID();
      expect((await post('acme', body(), idem)).status).toBe(202);
      const response = await createsNothing(() => post('acme', body({ direction: 'inbound' }), idem));
      expectProblem(response, 422);
    });

    it('another key makes another report', async () => {
      const first = await post('acme', body({ country: 'FR' }), randomUUID());
      const second = await post('acme', body({ country: 'FR' }), randomUUID());
      expect([first.status, second.status]).toEqual([202, 202]);
      expect(second.body.request_id).not.toBe(first.body.request_id);
    });

    it('keys belong to the caller account: another account may use the same key', async () => {
      const idem = randomUUID();
      const acme = await post('acme', body(), idem);
      const globex = await post('globex', body(), idem);
      expect([acme.status, globex.status]).toEqual([202, 202]);
      expect(globex.body.request_id).not.toBe(acme.body.request_id);
      expect(globex.body.account_id).toBe('globex');
      // And a parent does not share its child's keys either.
      const child = await post('acme-uk', body(), idem);
      expect(child.status).toBe(202);
      expect(child.body.request_id).not.toBe(acme.body.request_id);
    });

    it('two requests racing with a new key make one report', async () => {
      const idem = randomUUID();
      const before = await recorded();
      const responses = await Promise.all([post('acme', body({ country: 'DE' }), idem), post('acme', body({ country: 'DE' }), idem)]);
      expect(responses.map((r) => r.status).sort()).toEqual([200, 202]);
      expect(responses[0]!.body.request_id).toBe(responses[1]!.body.request_id);
      expect(await recorded()).toEqual({ reports: before.reports + 1, jobs: before.jobs + 1 });
    });

    it('binds a key for 24 hours only', async () => {
      const idem = randomUUID();
      const first = await post('acme', body(), idem);
      expect(first.status).toBe(202);
      await cluster.services.db.pool.query(
        `UPDATE report_idempotency_keys SET created_at = now() - interval '24 hours 1 minute' WHERE account_id = 'acme' AND key = $1`,
        [idem],
      );
      const later = await post('acme', body({ direction: 'inbound' }), idem);
      expect(later.status).toBe(202);
      expect(later.body.request_id).not.toBe(first.body.request_id);
    });

    it('a malformed key answers 400 naming the header, and nothing is created', async () => {
      const response = await createsNothing(() => post('acme', body(), 'x'.repeat(256)));
      expectProblem(response, 400, 'Idempotency-Key');
    });

    it('a key with an invalid body answers 400, and does not bind the key', async () => {
      const idem = randomUUID();
      const bad = await createsNothing(() => post('acme', body({ product: 'FAX' }), idem));
      expectProblem(bad, 400, 'product');
      expect((await post('acme', body(), idem)).status).toBe(202);
    });
  });
});
