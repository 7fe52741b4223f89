/*
 * cycle.h — the media cycle (媒体送付サイクル) a registration falls into, and when its media
 * ships. The seed's 先行リリース windows run 2023-08-21 … 2023-09-22; from 2023-09-25 windows are
 * fixed two-week blocks (Monday to the Friday of the next week). The id of a cycle is the first
 * day of its registration window. Public holidays are not applied here yet (the media cycle
 * issue moves them into the database with the holiday calendar).
 */
#ifndef NSDB_CYCLE_H
#define NSDB_CYCLE_H

#include <stdint.h>

typedef struct cycle_window {
    char id[11];                /* YYYY-MM-DD */
    char registration_from[11];
    char registration_to[11];
    char media_from[11];
    char media_to[11];
    char delivery_from[11];
    char delivery_to[11];
} cycle_window;

/* The cycle of a registration made at unix_time (Japan time). */
void cycle_for_time(int64_t unix_time, cycle_window *out);

#endif
