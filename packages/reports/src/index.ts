export { ReportService, CallbackService, GoneError, NoCallbackError, type ReportServiceDependencies, type ListReportsQuery, type CallbackLog } from './report.service';
export { downloadLink } from './download-link';
