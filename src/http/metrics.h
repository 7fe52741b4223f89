/*
 * metrics.h — process-wide counters exposed at /metrics in Prometheus text format. The only
 * mutable globals in nsdb besides configuration: atomics and a small mutex-guarded table.
 */
#ifndef NSDB_METRICS_H
#define NSDB_METRICS_H

void metrics_observe_request(int status, double seconds);

#endif
