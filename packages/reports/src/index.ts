export { ReportService, GoneError, type ReportServiceDependencies, type ListReportsQuery } from './report.service';
