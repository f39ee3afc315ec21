export { parseConfig, ConfigError, type Config, type Environment, type LogLevel } from './config.schema';
export { parseDuration, parseDurationList, parseCalendarPeriod, subtractPeriod, type CalendarPeriod } from './duration';
import { ConfigError, parseConfig, type Config } from './config.schema';

/** Reads the process environment once; the only place in the code base that does. */
export function loadConfig(): Config {
  return parseConfig(process.env);
}

/** For an app's main.ts: a bad setting stops start-up with a message naming the variable (exit code 78, EX_CONFIG). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
}
export { PROJECT_ROOT, PROJECT_VERSION, builtEntry, type BuiltEntryName } from './project-files';
