export { parseConfig, ConfigError, type Config, type Environment, type LogLevel } from './config.schema';
export { parseDuration, parseCalendarPeriod, subtractPeriod, type CalendarPeriod } from './duration';
import { parseConfig, type Config } from './config.schema';

/** Reads the process environment once; the only place in the code base that does. */
export function loadConfig(): Config {
  return parseConfig(process.env);
}
