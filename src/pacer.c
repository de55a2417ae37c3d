/* pacer.c: the thread count of a trainer's steps, chosen by measuring
 * (pacer.h). The steps are timed in windows of at least PACER_WINDOW
 * seconds and PACER_STEPS steps; now and then one window runs with one
 * thread fewer or one more, and the count that trains more characters a
 * second by a clear margin is kept. While trials lose they come less
 * often (every 2, 4, .. up to PACER_MOST_WINDOWS windows), so a quiet
 * machine pays about one window in PACER_MOST_WINDOWS at the other count;
 * a trial that wins is followed by another soon, so the count walks to
 * the best one. A window in which the threads waited for the last slot
 * more than PACER_WAITED of the time (a thread that lost its core holds
 * the others up) is followed by a trial of one thread fewer at once, the
 * first time: a busy machine is noticed in a tenth of a second, not after
 * the first PACER_FIRST_WINDOWS. Those trials back off too (a run whose
 * threads wait by its nature, one slot each, would otherwise try every
 * other window). */
#include "pacer.h"

#define PACER_WINDOW 0.1          /* seconds: several scheduler time slices */
#define PACER_STEPS 4
#define PACER_FIRST_WINDOWS 8     /* windows before the first trial: a short run pays none */
#define PACER_MOST_WINDOWS 64
#define PACER_MARGIN 1.05         /* a trial must be this much faster to win */
#define PACER_WAITED 0.10         /* quiet: 2 to 5% of a step (GRU 2x128, 2 threads); one
                                   * core taken: 10 to 30% */

void drnn_pacer_init(drnn_pacer *p, int most)
{
    *p = (drnn_pacer){0};
    p->most = most > 1 ? most : 1;
    p->now = p->most;
    p->next_way = -1;
    p->interval = PACER_FIRST_WINDOWS;
}

int drnn_pacer_threads(const drnn_pacer *p)
{
    return p->trial ? p->trial : p->now;
}

/* Twice n windows (at least one), at most PACER_MOST_WINDOWS. */
static int twice(int n)
{
    return n < 1 ? 1 : n * 2 < PACER_MOST_WINDOWS ? n * 2 : PACER_MOST_WINDOWS;
}

/* The count one way from now, within 1 .. most, or 0 if there is none. */
static int neighbour(const drnn_pacer *p, int way)
{
    int n = p->now + way;
    return n >= 1 && n <= p->most ? n : 0;
}

void drnn_pacer_step(drnn_pacer *p, int64_t chars, double seconds, double waited)
{
    if (p->most == 1 || !(seconds >= 0) || !(waited >= 0))
        return;
    p->window_chars += chars;
    p->window_seconds += seconds;
    p->window_waited += waited;
    if (++p->window_steps < PACER_STEPS || p->window_seconds < PACER_WINDOW)
        return;
    const double rate = (double)p->window_chars / p->window_seconds;
    const int held_up = p->window_waited > PACER_WAITED * p->window_seconds;
    p->window_chars = 0;
    p->window_seconds = 0;
    p->window_waited = 0;
    p->window_steps = 0;
    if (p->trial) {
        if (rate > p->rate * PACER_MARGIN) {
            p->now = p->trial; /* the trial won: go on that way soon */
            p->rate = rate;
            p->interval = 1;
            p->held_interval = 0;
        } else {
            if (p->trial_held)
                p->held_interval = twice(p->held_interval);
            else
                p->interval = twice(p->interval);
            p->next_way = -p->next_way;
        }
        p->trial = 0;
        p->since_trial = 0;
        return;
    }
    p->rate = rate;
    ++p->since_trial;
    if (held_up && p->now > 1 && p->since_trial > p->held_interval) {
        p->trial = p->now - 1;
        p->trial_held = 1;
        p->next_way = -1;
        return;
    }
    if (p->since_trial < p->interval)
        return;
    int n = neighbour(p, p->next_way);
    if (!n) {
        p->next_way = -p->next_way;
        n = neighbour(p, p->next_way);
    }
    p->trial = n;
    p->trial_held = 0;
}
