export { ReportService, CallbackService, GoneError, NoCallbackError, type ReportServiceDependencies, type ListReportsQuery, type CallbackLog } from './report.service';
export { downloadLink, fileLink } from './download-link';
export { RecordsService, encodeCursor, decodeCursor, type QueryParams, type RecordsPage, type UsagePage, type JsonRecord } from './records.service';
export { ScheduleService, MAX_CATCH_UP_PERIODS, type ScheduleServiceDependencies } from './schedule.service';
export { createReportServices, type ReportServices } from './report-services';
export { DestinationService, toDestinationResource, type DestinationServiceDependencies } from './destination.service';
export { openSecretBox } from './destination-secrets';
