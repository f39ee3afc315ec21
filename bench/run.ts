/**
 * npm run bench [-- --quick]: every benchmark in one run on the local services; each figure is printed beside
 * its baseline measured in the same run. --quick uses small sizes (a smoke run; its timings mean nothing).
 */
import { benchCallbacks } from './callbacks.bench';
import { writeResults, type Figure } from './report';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const figures: Figure[] = [];
  figures.push(...(await benchCallbacks({ quick })));
  await writeResults(figures, { quick, command: `npm run bench${quick ? ' -- --quick' : ''}` });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
