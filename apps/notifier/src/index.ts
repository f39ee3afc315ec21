export { runNotifier } from './run-notifier';
