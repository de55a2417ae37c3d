/* pacer.h: how many threads a trainer's steps use, chosen by measuring
 * the characters each count trains a second. On a quiet machine that is
 * every worker; when another program takes a core, the step's threads
 * wait at each barrier for the one that shares it, and fewer threads are
 * faster. The count never changes a bit (the slots fix the sums); only
 * the speed. Not installed. */
#ifndef DINORNN_PACER_H
#define DINORNN_PACER_H

#include <stdint.h>

typedef struct drnn_pacer {
    int most;                 /* the workers: the most threads a step can use */
    int now;                  /* the count the steps use */
    int trial;                /* a count on trial for one window, or 0 */
    int trial_held;           /* the trial followed a window of long waits */
    int next_way;             /* the next trial: -1 one fewer, +1 one more */
    double rate;              /* characters a second of `now`, its latest window */
    int since_trial;          /* windows of `now` since the last trial */
    int interval;             /* windows between trials: doubles while trials lose */
    int held_interval;        /* the same for trials after a window of long waits */
    double window_seconds;    /* the window being measured */
    double window_waited;
    int64_t window_chars;
    int window_steps;
} drnn_pacer;

/* A pacer for up to `most` threads, starting with all of them. */
void drnn_pacer_init(drnn_pacer *p, int most);

/* The thread count for the next step. */
int drnn_pacer_threads(const drnn_pacer *p);

/* A step of `chars` characters took `seconds` with the count
 * drnn_pacer_threads gave, `waited` of them with threads idle for the
 * last one's slot (a sign that a thread lost its core). */
void drnn_pacer_step(drnn_pacer *p, int64_t chars, double seconds, double waited);

#endif
