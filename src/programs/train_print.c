/* train_print.c: what dinornn-train prints while it trains, besides its
 * epoch lines (interface train_print.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train_print.h"

const char *train_member_part(const drnn_train_state *st, char *buf, size_t size)
{
    buf[0] = '\0';
    if (st->hp.members > 1)
        snprintf(buf, size, "member %d/%d, ", st->member + 1, st->hp.members);
    return buf;
}

/* Their generator depends only on the seed and the epoch, so showing
 * samples never changes training. */
void train_print_samples(const drnn_train_state *st, const drnn_corpus *train, int count)
{
    drnn_stepper *stepper;
    drnn_error err;
    const drnn_model current = drnn_model_of(&st->weights, 1); /* the member in training */
    if (count <= 0 || drnn_stepper_new(&stepper, &current, &err))
        return;
    drnn_rng rng;
    drnn_rng_seed(&rng, st->hp.seed * 0x9e3779b97f4a7c15ULL + (uint64_t)st->epoch);
    drnn_sample_options sopt = {.temperature = 1.0, .top_k = 0, .max_len = 40};
    drnn_token tokens[40];
    char text[4 * 40 + 1];
    int novel = 0;
    printf("  samples:");
    for (int i = 0; i < count; i++) {
        int n = drnn_sample_name(&current, stepper, &rng, &sopt, NULL, 0, tokens);
        int copy = drnn_corpus_contains(train, tokens, n);
        novel += !copy;
        drnn_vocab_decode(&st->vocab, tokens, n, !st->hp.keep_case, text, sizeof text);
        printf("%s %s%s", i ? "," : "", text, copy ? " (copy)" : "");
    }
    printf("  [%d of %d novel]\n", novel, count);
    drnn_stepper_free(stepper);
}

int train_progress_wanted(int quiet)
{
    /* A dumb terminal (Emacs's shell, a serial console) or none named
     * would show the escape sequence as text. */
    const char *term = getenv("TERM");
    return !quiet && isatty(STDERR_FILENO) && term && *term && strcmp(term, "dumb") != 0;
}

void train_draw_progress(const drnn_train_state *st, size_t names, long long epochs,
                         int64_t chars, int64_t done, double seconds)
{
    enum { WIDTH = 30 };
    double frac = names ? (double)st->epoch_pos / (double)names : 0;
    char bar[WIDTH + 1], member[48];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < (int)(frac * WIDTH) ? '#' : '.';
    bar[WIDTH] = '\0';
    double left = done > 0 ? seconds * (double)((int64_t)names - st->epoch_pos) / (double)done : 0;
    fprintf(stderr, "\r\033[K%sepoch %lld/%lld [%s] %lld/%zu names  %.0f chars/s  %.1f s left",
            train_member_part(st, member, sizeof member), (long long)st->epoch + 1, epochs, bar,
            (long long)st->epoch_pos, names, seconds > 0 ? (double)chars / seconds : 0, left);
    fflush(stderr);
}

void train_clear_progress(void)
{
    fputs("\r\033[K", stderr);
}
