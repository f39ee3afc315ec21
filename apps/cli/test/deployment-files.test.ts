import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { parseConfig } from '@cdr-reports/config';
import { QUEUES } from '@cdr-reports/jobs';
import { WORKER_ENVIRONMENT, WORKER_NODE_FLAGS } from '@cdr-reports/worker';

/**
 * docker-compose.yml and infra/ must describe the apps as they really are: the commands the CLI has, the
 * environment variables the configuration reads, the ports the apps listen on, the health endpoints they
 * serve and the queue keys BullMQ writes. Nothing here runs Docker or Kubernetes; it reads the files.
 */
const ROOT = path.join(__dirname, '..', '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Every environment variable parseConfig reads: it is given an environment that records each name asked for. */
function configVariables(): Set<string> {
  const names = new Set<string>();
  const recording = new Proxy({} as Record<string, string | undefined>, {
    get(_target, name) {
      if (typeof name === 'string') names.add(name);
      return undefined;
    },
  });
  parseConfig(recording);
  return names;
}

// Read by Node itself, or by the CLI's report commands, not by parseConfig.
const OTHER_VARIABLES = new Set(['NODE_OPTIONS', 'API_URL', 'API_KEY', ...Object.keys(WORKER_ENVIRONMENT)]);
const CLI_COMMANDS = ['migrate', 'accounts', 'keys', 'cdr', 'schedules', 'report', 'start'];
const APPS = ['api', 'worker', 'notifier', 's3', 'all'];

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

interface K8sContainer {
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name: string; containerPort: number }>;
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
}

describe('deployment files', () => {
  const variables = configVariables();
  const defaults = parseConfig({});
  // Compose files use YAML merge keys (<<: *app).
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const manifests = readdirSync(path.join(ROOT, 'infra', 'k8s'))
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) => parseAllDocuments(read(path.join('infra', 'k8s', file))).map((doc) => doc.toJS() as Record<string, any>)); // eslint-disable-line @typescript-eslint/no-explicit-any -- Kubernetes objects of any kind
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const containers = byKind('Deployment')
    .concat(byKind('Job'))
    .flatMap((m) => m.spec.template.spec.containers as K8sContainer[]);

  it('sees the configuration it checks against', () => {
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'METRICS_PORT', 'ADMIN_TOKEN', 'SHUTDOWN_TIMEOUT']) expect(variables.has(name)).toBe(true);
  });

  it('docker compose runs real CLI commands with real variables, migrate first', () => {
    const apps = Object.entries(compose.services).filter(([, service]) => service.command?.[0] === 'start' || service.command?.[0] === 'migrate');
    expect(apps.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'notifier', 'worker']);
    for (const [name, service] of apps) {
      expect(CLI_COMMANDS).toContain(service.command![0]);
      if (service.command![0] === 'start') {
        expect(APPS).toContain(service.command![1]);
        expect(service.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
      }
      for (const variable of Object.keys(service.environment ?? {})) {
        expect({ service: name, variable, known: variables.has(variable) || OTHER_VARIABLES.has(variable) }).toEqual({ service: name, variable, known: true });
      }
    }
    expect(compose.services.worker!.environment!.NODE_OPTIONS).toBe(WORKER_NODE_FLAGS.join(' '));
    expect(compose.services.worker!.environment).toMatchObject(WORKER_ENVIRONMENT);
    // The API's port is the one published and probed.
    const port = compose.services.api!.environment!.PORT;
    expect(compose.services.api!.ports).toContain(`${port}:${port}`);
    expect(compose.services.api!.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${port}/healthz`);
    expect(compose.services.redis!.command).toEqual(['redis-server', '/usr/local/etc/redis/redis.conf']);
    // The worker and the notifier are probed on their METRICS_PORT.
    for (const name of ['worker', 'notifier']) {
      const service = compose.services[name]!;
      expect(service.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${service.environment!.METRICS_PORT}/readyz`);
    }
  });

  it('the Redis configuration keeps jobs: AOF on, never evicting', () => {
    const conf = read('infra/redis/redis.conf');
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
  });

  it('the Dockerfile builds the CLI the repository has and starts it', () => {
    const dockerfile = read('infra/docker/Dockerfile');
    expect(dockerfile).toContain('RUN npm run build');
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).toContain('ENTRYPOINT ["node", "dist/cli.js"]');
    expect(readFileSync(path.join(ROOT, 'scripts', 'build.ts'), 'utf8')).toContain(`cli: path.join(ROOT, 'apps', 'cli', 'src', 'main.ts')`);
  });

  it('Kubernetes runs real commands, with known variables, ports and probes', () => {
    const starts = containers.filter((c) => c.args?.[0] === 'start').map((c) => c.args![1]);
    expect(starts.sort()).toEqual(['api', 'notifier', 'worker']);
    expect(containers.some((c) => c.args?.[0] === 'migrate')).toBe(true);
    const configMap = byKind('ConfigMap')[0]!;
    const secret = byKind('Secret')[0]!;
    for (const name of [...Object.keys(configMap.data), ...Object.keys(secret.stringData)]) expect({ name, known: variables.has(name) }).toEqual({ name, known: true });
    for (const container of containers) {
      for (const ref of container.envFrom ?? []) expect([configMap.metadata.name, secret.metadata.name]).toContain(ref.configMapRef?.name ?? ref.secretRef?.name);
      for (const { name } of container.env ?? []) expect({ name, known: variables.has(name) || OTHER_VARIABLES.has(name) }).toEqual({ name, known: true });
    }

    const api = containers.find((c) => c.args?.[1] === 'api')!;
    const apiPort = Number(api.env!.find((e) => e.name === 'PORT')!.value);
    expect(api.ports).toEqual([{ name: 'http', containerPort: apiPort }]);
    expect(api.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(api.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    for (const app of ['worker', 'notifier']) {
      const container = containers.find((c) => c.args?.[1] === app)!;
      expect(container.ports).toEqual([{ name: 'metrics', containerPort: Number(configMap.data.METRICS_PORT) }]);
      expect(container.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    }
    expect(Number(configMap.data.METRICS_PORT)).toBe(defaults.metricsPort);
    const worker = containers.find((c) => c.args?.[1] === 'worker')!;
    expect(worker.env!.find((e) => e.name === 'NODE_OPTIONS')!.value).toBe(WORKER_NODE_FLAGS.join(' '));
    for (const [name, value] of Object.entries(WORKER_ENVIRONMENT)) expect(worker.env!.find((e) => e.name === name)?.value).toBe(value);

    const service = byKind('Service')[0]!;
    expect(service.spec.selector).toEqual(byKind('Deployment').find((d) => d.metadata.name === 'cdr-reports-api')!.spec.selector.matchLabels);
  });

  it('KEDA scales the worker Deployment on the BullMQ wait lists of the report queues', () => {
    const scaled = byKind('ScaledObject')[0]!;
    expect(byKind('Deployment').map((d) => d.metadata.name)).toContain(scaled.spec.scaleTargetRef.name);
    expect(scaled.spec.scaleTargetRef.name).toBe('cdr-reports-worker');
    const prefix = byKind('ConfigMap')[0]!.data.QUEUE_PREFIX;
    const lists = scaled.spec.triggers.map((t: { metadata: { listName: string } }) => t.metadata.listName);
    expect(lists).toEqual([QUEUES.reports, QUEUES.reportsLarge, QUEUES.reportSegments].map((queue) => `${prefix}:${queue}:wait`));
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
  });
});
